# SPDX-License-Identifier: MIT
# A/B slot choice for U-Boot over upgrader's uboot boot-state backend (docs/bootstate.md,
# docs/porting.md), in RAUC's variables: BOOT_ORDER ("A B"), BOOT_A_LEFT and BOOT_B_LEFT
# (boots left, hex). The first slot of BOOT_ORDER with boots left boots, one boot fewer
# stored before the kernel starts; the running system's mark-good gives the boots back.
# A slot that never proves good runs out, and the next one in BOOT_ORDER boots: the fallback.
#
# Build: mkimage -A arm64 -T script -C none -d boot.cmd boot.scr
#
# The environment: on a board with CONFIG_ENV_IS_IN_MMC (or SPI flash) and
# CONFIG_SYS_REDUNDAND_ENVIRONMENT, U-Boot has loaded it already; set upgrader_env_file=0
# and `saveenv` stores it (the redundant copy U-Boot and libubootenv agree on). Without a
# writable environment (Debian's u-boot-qemu), it is a file uboot.env on the boot partition,
# imported and written back here (upgrader_env_file=1, the default).
test -n "${upgrader_env_file}" || setenv upgrader_env_file 1
test -n "${upgrader_env_dev}" || setenv upgrader_env_dev "virtio 0:1"
test -n "${upgrader_env_size}" || setenv upgrader_env_size 0x4000
if test "${upgrader_env_file}" = 1; then
    if fatload ${upgrader_env_dev} ${loadaddr} uboot.env; then
        env import -c ${loadaddr} ${upgrader_env_size}
    fi
fi

test -n "${BOOT_ORDER}" || setenv BOOT_ORDER "A B"
test -n "${BOOT_A_LEFT}" || setenv BOOT_A_LEFT 3
test -n "${BOOT_B_LEFT}" || setenv BOOT_B_LEFT 3

setenv upgrader_slot
for s in ${BOOT_ORDER}; do
    if test -z "${upgrader_slot}"; then
        if test "${s}" = A && test 0x${BOOT_A_LEFT} -gt 0; then
            setenv upgrader_slot A
            setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1
        fi
        if test "${s}" = B && test 0x${BOOT_B_LEFT} -gt 0; then
            setenv upgrader_slot B
            setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1
        fi
    fi
done
if test -z "${upgrader_slot}"; then
    # No slot has boots left: give every slot of BOOT_ORDER its boots again rather than stop.
    echo "upgrader: no slot has boots left; trying them all again"
    setenv BOOT_A_LEFT 3
    setenv BOOT_B_LEFT 3
    for s in ${BOOT_ORDER}; do test -n "${upgrader_slot}" || setenv upgrader_slot ${s}; done
    test -n "${upgrader_slot}" || setenv upgrader_slot A
    if test "${upgrader_slot}" = A; then setexpr BOOT_A_LEFT ${BOOT_A_LEFT} - 1; fi
    if test "${upgrader_slot}" = B; then setexpr BOOT_B_LEFT ${BOOT_B_LEFT} - 1; fi
fi
setenv UPGRADER_BOOTED ${upgrader_slot}

# The used boot is stored before the kernel starts: a slot that hangs is not tried for ever.
if test "${upgrader_env_file}" = 1; then
    env export -c -s ${upgrader_env_size} ${loadaddr}
    fatwrite ${upgrader_env_dev} ${loadaddr} uboot.env ${upgrader_env_size}
else
    saveenv
fi
echo "upgrader: booting slot ${upgrader_slot} (BOOT_ORDER=${BOOT_ORDER} BOOT_A_LEFT=${BOOT_A_LEFT} BOOT_B_LEFT=${BOOT_B_LEFT})"
setenv bootargs "${bootargs} upgrader.slot=${upgrader_slot}"
# The board's own lines follow: load the chosen slot's kernel and boot it, e.g.
#   if test ${upgrader_slot} = A; then setenv upgrader_part 2; else setenv upgrader_part 3; fi
#   load virtio 0:${upgrader_part} ${kernel_addr_r} /boot/Image && booti ${kernel_addr_r} - ${fdtcontroladdr}
if test -n "${upgrader_after_choice}"; then run upgrader_after_choice; fi
