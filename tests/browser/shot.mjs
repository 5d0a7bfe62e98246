// SPDX-License-Identifier: MIT
// shot.mjs URL USER PASSWORD FILE: a screenshot of one page, signed in with Digest, in
// headless Chromium (Debian's /usr/bin/chromium); for make demo.
import puppeteer from "puppeteer-core";

const [url, user, password, file] = process.argv.slice(2);
const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const page = await browser.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  await page.authenticate({ username: user, password });
  await page.goto(url, { waitUntil: "load" });
  await page.screenshot({ path: file, fullPage: true });
} finally {
  await browser.close();
}
