// SPDX-License-Identifier: MIT
// The web pages in headless Chromium (Debian's /usr/bin/chromium) through the DevTools
// protocol (puppeteer-core): signing in, the versions and state read from the rendered page,
// a user-level parameter changed through the form, an admin parameter refused to the user,
// the progress bar moving during an upgrade. Screenshots go to $SHOTS. Every wait has a
// deadline; nothing sleeps for a fixed time. Run by tests/integration/test_web_browser.sh.
import { execFileSync } from "node:child_process";
import puppeteer from "puppeteer-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const URL = env("WEB_URL"), SHOTS = env("SHOTS"), ADMIN = env("ADMIN_PW"), USER = env("USER_PW");
const UPGRADER = env("UPGRADER"), DEV = env("DEV"), BUNDLE = env("BUNDLE_URL");
let checks = 0;
const t0 = Date.now();
function ok(what) {
  checks++;
  console.log(`ok ${checks} - ${what} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
}
function expect(what, got, want) {
  if (got !== want) throw new Error(`${what}: got '${got}', expected '${want}'`);
  ok(what);
}
const text = (page, sel) => page.$eval(sel, (e) => e.textContent.trim());

async function signedIn(browser, user, password) {
  const ctx = await browser.createBrowserContext();
  const page = await ctx.newPage();
  await page.setViewport({ width: 1100, height: 900 });
  await page.authenticate({ username: user, password });
  page.setDefaultTimeout(20000);
  return page;
}

async function statusPage(page) {
  const r = await page.goto(URL + "/", { waitUntil: "load" });
  expect("the admin signs in (Digest) and gets the status page", r.status(), 200);
  expect("the page shows the account", await text(page, "#account"), "admin");
  expect("the running version, read from the page", await text(page, "#running-version"), "1.0.0 (slot A)");
  expect("slot A's version", await text(page, "#slot-A-version"), "1.0.0");
  expect("slot B is empty", await text(page, "#slot-B-version"), "(empty)");
  expect("the provisioning state", await text(page, "#prov-state"), "MFG-RESET");
  expect("the upgrade is idle", await text(page, "#upgrade-state"), "idle");
  await page.screenshot({ path: `${SHOTS}/status-before.png`, fullPage: true });
}

async function userConfig(page) {
  const r = await page.goto(URL + "/config", { waitUntil: "load" });
  expect("the user signs in and gets the configuration page", r.status(), 200);
  expect("the user's page hides the admin's parameters", await page.$("#p\\:Profile_Rule"), null);
  expect("a password field is empty (write-only)", await page.$eval("#p\\:User_Password", (e) => e.value), "");
  await page.screenshot({ path: `${SHOTS}/config-user.png`, fullPage: true });
  // GPP_P was made user-writable by the test: change it through its group's form.
  await page.$eval("#p\\:GPP_P", (e) => (e.value = ""));
  await page.type("#p\\:GPP_P", "set from the browser");
  await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.$eval("#p\\:GPP_P", (e) => e.form.requestSubmit())]);
  expect("the form says it applied", (await text(page, "#message")).startsWith("Applied: 1 value changed"), true);
  const stored = execFileSync(UPGRADER, ["--root", DEV, "param", "get", "GPP_P"]).toString().trim();
  expect("upgrader param get sees the value", stored, "set from the browser");
  // An admin parameter slipped into the user's form: refused, nothing changed.
  await page.$eval("#p\\:GPP_P", (e) => {
    const i = document.createElement("input");
    i.name = "p:Profile_Rule";
    i.value = "http://evil.example/x.xml";
    e.form.appendChild(i);
  });
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: "load" }), page.$eval("#p\\:GPP_P", (e) => e.form.requestSubmit())]);
  expect("the admin parameter is refused to the user (403)", resp.status(), 403);
  expect("the page names the field", (await text(page, "#message")).includes("Profile_Rule: the user account may not change it"), true);
  await page.screenshot({ path: `${SHOTS}/config-refused.png`, fullPage: true });
  const rule = execFileSync(UPGRADER, ["--root", DEV, "param", "get", "Profile_Rule"]).toString().trim();
  expect("Profile_Rule is unchanged", rule.includes("evil"), false);
}

async function upgrade(page) {
  await page.goto(URL + "/", { waitUntil: "load" });
  const curl = ["-s", "-o", "/dev/null", "-w", "%{http_code}", "--digest", "-u", `admin:${ADMIN}`];
  const code = execFileSync("curl", [...curl, `${URL}/admin/upgrade?${BUNDLE}`]).toString();
  expect("the upgrade is queued through /admin/upgrade?", code, "202");
  // The page sees the job start by itself (it polls /progress.json and reloads).
  await page.waitForSelector("#progress", { timeout: 15000 });
  ok("the progress bar appears while the upgrade runs");
  await page.waitForFunction(() => document.querySelector("#progress").value > 0, { timeout: 15000 });
  const first = await page.$eval("#progress", (e) => e.value);
  await page.waitForFunction((v) => {
    const p = document.querySelector("#progress");
    return p && p.value > v;
  }, { timeout: 15000 }, first);
  ok("the progress bar moves");
  await page.waitForFunction(() => document.querySelector(".plan li.current").textContent === "1.5.0",
    { timeout: 15000 });
  ok("the plan's current hop is highlighted with its version");
  await page.screenshot({ path: `${SHOTS}/status-during.png`, fullPage: true });
  await page.waitForFunction(() => !document.querySelector("#progress") &&
    document.querySelector("#upgrade-state").textContent.startsWith("switched-awaiting-boot"), { timeout: 30000 });
  expect("after the upgrade, slot B holds the new version", await text(page, "#slot-B-version"), "1.5.0");
  await page.screenshot({ path: `${SHOTS}/status-after.png`, fullPage: true });
  await page.goto(URL + "/log", { waitUntil: "load" });
  expect("the log page lists the upgrade", (await text(page, "#events")).includes("upgrade"), true);
  await page.screenshot({ path: `${SHOTS}/log.png`, fullPage: true });
}

const browser = await puppeteer.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  headless: true,
  args: ["--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage"],
});
try {
  const admin = await signedIn(browser, "admin", ADMIN);
  await statusPage(admin);
  await userConfig(await signedIn(browser, "user", USER));
  await upgrade(admin);
  console.log(`ok: ${checks} checks passed`);
} finally {
  await browser.close();
}
