build-dev/obj/upgrader/cmd/cmd_pack.o: upgrader/cmd/cmd_pack.c \
 upgrader/bundle/pack.h upgrader/bundle/decompress.h common/error.h \
 upgrader/bundle/sign.h common/buf.h upgrader/cmd/commands.h \
 common/fsutil.h common/units.h
upgrader/bundle/pack.h:
upgrader/bundle/decompress.h:
common/error.h:
upgrader/bundle/sign.h:
common/buf.h:
upgrader/cmd/commands.h:
common/fsutil.h:
common/units.h:
