// Browser tests of the admin console (www/) in Debian's chromium, driven by playwright-core.
// Starts www/serve.mjs on a free port (or uses CONSOLE_URL when set), writes screenshots to tests/out/.
import { after, before, describe, test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdir, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const repo = fileURLToPath(new URL("../..", import.meta.url));
const outDir = join(repo, "tests", "out");
const MASK = "••••••••";
const SECRET = "Zq9-Unique-Secret/Value+42";

const seedBody = {
  type: "aws-kinesis",
  id: "dc.kinesis.1",
  credentials: { user: "AKIAJH44BQER4BMM6Q", password: "mypassword" },
  region: "us-west-2",
  stream: "test",
  shards: 1,
  maxRecordsPerShardPerSecond: 1000,
  maxBytesPerShardPerSecond: 1000000,
  disabled: false,
};

let server;
let pageUrl;
let context;
let userDataDir;

async function startServer() {
  if (process.env.CONSOLE_URL) return process.env.CONSOLE_URL;
  server = spawn(process.execPath, [join(repo, "www", "serve.mjs")], {
    env: { ...process.env, PORT: "0" },
    stdio: ["ignore", "pipe", "inherit"],
  });
  let seen = "";
  for await (const chunk of server.stdout) {
    seen += chunk;
    const match = seen.match(/http:\/\/127\.0\.0\.1:\d+\/www\//);
    if (match) return match[0];
  }
  throw new Error(`the console server exited without printing its URL: ${seen}`);
}

before(async () => {
  await mkdir(outDir, { recursive: true });
  pageUrl = await startServer();
  userDataDir = await mkdtemp(join(tmpdir(), "kc-console-chromium-"));
  context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: "/usr/bin/chromium",
    headless: true,
    args: [
      "--headless",
      "--no-sandbox",
      "--disable-gpu",
      "--disable-background-networking",
      "--disable-component-update",
      "--disable-sync",
      "--no-first-run",
    ],
    viewport: { width: 1280, height: 900 },
  });
  await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: new URL(pageUrl).origin });
});

after(async () => {
  await context?.close();
  if (server) {
    server.kill("SIGTERM");
    if (server.exitCode === null) await once(server, "exit");
  }
  if (userDataDir) await rm(userDataDir, { recursive: true, force: true });
});

/** A fresh page on the console, ready (package loaded), collecting page errors. */
async function openConsole(viewport = { width: 1280, height: 900 }) {
  const page = await context.newPage();
  await page.setViewportSize(viewport);
  const problems = [];
  page.on("pageerror", (error) => problems.push(`pageerror: ${error.message}`));
  page.on("console", (message) => {
    if (message.type() === "error") problems.push(`console: ${message.text()}`);
  });
  page.on("requestfailed", (request) => problems.push(`request failed: ${request.url()}`));
  await page.goto(pageUrl);
  await page.waitForSelector('html[data-ready="true"]', { timeout: 10_000 });
  page.problems = problems;
  return page;
}

async function closeConsole(page) {
  const problems = page.problems;
  await page.close();
  assert.deepEqual(problems, [], "no page errors, console errors or failed requests");
}

const field = (page, label) => page.getByLabel(label, { exact: true });

async function fillSeedByHand(page, password = "mypassword") {
  await field(page, "Id").fill("dc.kinesis.1");
  await field(page, "User").fill("AKIAJH44BQER4BMM6Q");
  await field(page, "Password").fill(password);
  await field(page, "Region").selectOption("us-west-2");
  await field(page, "Stream").fill("test");
  await field(page, "Shards").fill("1");
  await field(page, "Max records per shard per second").fill("1000");
  await field(page, "Max bytes per shard per second").fill("1000000");
}

async function previewBody(page) {
  return JSON.parse(await page.locator("#preview-body").textContent());
}

async function invalid(page, label) {
  return field(page, label).getAttribute("aria-invalid");
}

/** The field's message element, found through its aria-describedby, as a screen reader would. */
async function describedText(page, label) {
  const ids = (await field(page, label).getAttribute("aria-describedby")) ?? "";
  const texts = [];
  for (const id of ids.split(/\s+/).filter(Boolean)) texts.push(await page.locator(`#${id}`).innerText());
  return texts.join("\n");
}

async function switchMode(page, mode) {
  await page.getByLabel(mode === "edit" ? "Edit" : "Create", { exact: true }).check();
}

async function loadSavedExample(page, index = 0) {
  await switchMode(page, "edit");
  await page.getByLabel("Example", { exact: true }).selectOption(String(index));
  await page.getByRole("button", { name: "Load for editing" }).click();
}

async function noHorizontalScroll(page) {
  const { scrollWidth, clientWidth } = await page.evaluate(() => ({
    scrollWidth: document.documentElement.scrollWidth,
    clientWidth: document.documentElement.clientWidth,
  }));
  assert.ok(scrollWidth <= 360, `page scrolls sideways: scrollWidth ${scrollWidth}, clientWidth ${clientWidth}`);
}

describe("admin console", () => {
  test("the server sends modules as JavaScript and refuses paths outside www/ and pkg/", async () => {
    const origin = new URL(pageUrl).origin;
    const app = await fetch(`${origin}/www/app.mjs`);
    assert.equal(app.status, 200);
    assert.match(app.headers.get("content-type"), /^text\/javascript/);
    const pkg = await fetch(`${origin}/pkg/index.mjs`);
    assert.equal(pkg.status, 200);
    assert.match(pkg.headers.get("content-type"), /^text\/javascript/);
    assert.equal((await fetch(`${origin}/Cargo.toml`)).status, 404);
    assert.equal((await fetch(`${origin}/www/..%2fCargo.toml`)).status, 404);
    assert.equal((await fetch(`${origin}/`, { redirect: "manual" })).status, 302);
  });

  test("create: the documentation example typed in is valid and the preview is normalizeCreate's body", async () => {
    const page = await openConsole();
    // Every field of SPEC §1 has a visible label.
    for (const label of ["Type", "Id", "User", "Password", "Region", "Stream", "Shards",
      "Max records per shard per second", "Max bytes per shard per second", "Data processing method id", "Disabled"]) {
      assert.ok(await field(page, label).isVisible(), `${label} is visible`);
    }
    assert.equal(await field(page, "Password").getAttribute("type"), "password");
    assert.equal(await field(page, "Shards").getAttribute("type"), "number");
    assert.equal(await field(page, "Region").evaluate((node) => node.tagName), "SELECT");
    assert.ok((await field(page, "Region").innerText()).includes("US West (Oregon)"), "regions show display names");
    assert.equal(await field(page, "Disabled").getAttribute("type"), "checkbox");

    await fillSeedByHand(page);
    await assert.doesNotReject(page.locator("#verdict", { hasText: /^Valid/ }).waitFor());
    // The seed's own key is 18 characters and its password is not 40: valid, with warnings.
    assert.match(await page.locator("#f-user-msg").innerText(), /warning/i);
    assert.equal(await invalid(page, "User"), null);

    // What the form sends is what normalizeCreate makes of the form strings.
    const formInput = {
      type: "aws-kinesis",
      id: "dc.kinesis.1",
      credentials: { user: "AKIAJH44BQER4BMM6Q", password: "mypassword" },
      region: "us-west-2",
      stream: "test",
      shards: "1",
      maxRecordsPerShardPerSecond: "1000",
      maxBytesPerShardPerSecond: "1000000",
      disabled: false,
    };
    const normalized = await page.evaluate(async (input) => {
      const kc = await import("../pkg/index.mjs");
      return kc.normalizeCreate(input).value;
    }, formInput);
    const masked = { ...normalized, credentials: { ...normalized.credentials, password: MASK } };
    const shown = await previewBody(page);
    assert.equal(JSON.stringify(shown), JSON.stringify(masked), "preview body = normalizeCreate(form), key order included");
    assert.equal(JSON.stringify(shown), JSON.stringify({ ...seedBody, credentials: { ...seedBody.credentials, password: MASK } }));
    assert.match(await page.locator("#request-body .req-line").innerText(), /POST .*\/v3\/apps\/:ref\/dataconnectors$/);

    // The button fills the same example.
    await page.getByRole("button", { name: "Clear form" }).click();
    await page.getByRole("button", { name: "Fill with the documentation example" }).click();
    await page.locator("#verdict", { hasText: /^Valid/ }).waitFor();
    assert.equal(JSON.stringify(await previewBody(page)), JSON.stringify(masked));
    await page.screenshot({ path: join(outDir, "console-create.png"), fullPage: true });
    await closeConsole(page);
  });

  test("create: a bad region shows a field error with a suggestion; one click fixes it", async () => {
    const page = await openConsole();
    await page.getByText("Import a create body (JSON)").click();
    await page.getByLabel("Create body JSON").fill(JSON.stringify({ ...seedBody, region: "us-west2" }));
    await page.getByRole("button", { name: "Fill the form" }).click();

    assert.equal(await invalid(page, "Region"), "true");
    const message = await describedText(page, "Region");
    assert.match(message, /error/i);
    const suggestion = page.locator("#f-region-msg button.suggest");
    assert.match(await suggestion.innerText(), /us-west-2/);
    assert.match(await suggestion.innerText(), /US West \(Oregon\)/);
    assert.match(await page.locator("#verdict").innerText(), /1 error/);
    await page.screenshot({ path: join(outDir, "console-region-error.png"), fullPage: true });

    await suggestion.click();
    assert.equal(await field(page, "Region").inputValue(), "us-west-2");
    assert.equal(await invalid(page, "Region"), null);
    assert.equal(await page.locator("#f-region-msg").innerText(), "");
    await page.locator("#verdict", { hasText: /^Valid/ }).waitFor();
    assert.equal((await previewBody(page)).region, "us-west-2");
    assert.ok(await field(page, "Region").evaluate((node) => node === document.activeElement), "focus moves to the fixed field");
    await closeConsole(page);
  });

  test("create: an unknown field gets a did-you-mean that renames it", async () => {
    const page = await openConsole();
    const { stream, ...rest } = seedBody;
    await page.getByText("Import a create body (JSON)").click();
    await page.getByLabel("Create body JSON").fill(JSON.stringify({ ...rest, strem: stream }));
    await page.getByRole("button", { name: "Fill the form" }).click();
    const extra = page.locator("#extra-list");
    assert.match(await extra.innerText(), /strem/);
    await extra.getByRole("button", { name: /Did you mean stream/ }).click();
    assert.equal(await field(page, "Stream").inputValue(), "test");
    assert.ok(await page.locator("#extra").isHidden());
    await page.locator("#verdict", { hasText: /^Valid/ }).waitFor();
    await closeConsole(page);
  });

  test("create: a stream name with a space and 0 shards mark those fields invalid", async () => {
    const page = await openConsole();
    await fillSeedByHand(page);
    await field(page, "Stream").fill("my stream");
    await field(page, "Shards").fill("0");

    for (const [label, id] of [["Stream", "stream"], ["Shards", "shards"]]) {
      assert.equal(await invalid(page, label), "true", `${label} has aria-invalid`);
      const describedBy = await field(page, label).getAttribute("aria-describedby");
      assert.ok(describedBy.split(" ").includes(`f-${id}-msg`), `${label} is described by its message`);
      assert.match(await page.locator(`#f-${id}-msg`).innerText(), /error/i);
    }
    assert.match(await page.locator("#f-stream-msg .issue.error").getAttribute("data-code"), /^stream\./);
    assert.equal(await page.locator("#f-shards-msg .issue.error").getAttribute("data-code"), "shards.range");
    // Other fields stay clean; the summary lists both errors and links to the fields.
    assert.equal(await invalid(page, "Region"), null);
    assert.match(await page.locator("#verdict").innerText(), /^2 errors/);
    const summary = page.locator("#summary-list");
    assert.equal(await summary.locator("li").filter({ has: page.locator(".issue.error") }).count(), 2);
    await summary.getByRole("link", { name: "Shards" }).click();
    assert.ok(await field(page, "Shards").evaluate((node) => node === document.activeElement));
    assert.ok(await page.getByRole("button", { name: "Copy as curl" }).isDisabled(), "no copying an invalid request");

    // The page shows exactly the package's verdict: the same issues, no more, no fewer.
    const expected = await page.evaluate(async () => {
      const kc = await import("../pkg/index.mjs");
      const input = {
        type: "aws-kinesis", id: "dc.kinesis.1",
        credentials: { user: "AKIAJH44BQER4BMM6Q", password: "mypassword" },
        region: "us-west-2", stream: "my stream", shards: "0",
        maxRecordsPerShardPerSecond: "1000", maxBytesPerShardPerSecond: "1000000", disabled: false,
      };
      const result = kc.validateCreate(kc.normalizeCreate(input).value);
      return [...result.errors, ...result.warnings].map((i) => `${i.severity}:${i.code}`).sort();
    });
    const shownCodes = await summary.locator(".issue").evaluateAll((nodes) =>
      nodes.map((n) => `${n.classList.contains("error") ? "error" : "warning"}:${n.dataset.code}`).sort());
    assert.deepEqual(shownCodes, expected);

    // Fixing the values clears the marks.
    await field(page, "Stream").fill("my-stream");
    await field(page, "Shards").fill("2");
    assert.equal(await invalid(page, "Stream"), null);
    assert.equal(await invalid(page, "Shards"), null);
    assert.equal(await field(page, "Shards").getAttribute("aria-describedby"), "f-shards-hint");
    await closeConsole(page);
  });

  test("edit: shards 1 → 5 shows a reshard with its steps and the PUT body {shards: 5}", async () => {
    const page = await openConsole();
    await loadSavedExample(page, 0);
    assert.equal(await field(page, "Shards").inputValue(), "1");
    assert.equal(await field(page, "Password").inputValue(), "", "the saved password is never there");
    assert.match(await page.locator("#diff-action").innerText(), /No changes/);

    await field(page, "Shards").fill("5");
    const row = page.locator('#diff-table tr[data-path="/shards"]');
    assert.equal(await row.getAttribute("data-effect"), "reshard");
    const rowText = await row.innerText();
    assert.match(rowText, /Reshard/);
    assert.match(rowText, /1 → 5 shards, 3 UpdateShardCount steps/);
    assert.equal(await page.locator("#diff-table tbody tr").count(), 1);
    assert.match(await page.locator("#request-body .req-line").innerText(), /^PUT\s.*\/v3\/apps\/:ref\/dataconnectors\/dc\.kinesis\.1$/);
    assert.deepEqual(await previewBody(page), { shards: 5 });
    assert.match(await page.locator("#diff-action").innerText(), /Update in place/);

    // A throttle and a pause come with their effects; the body stays minimal.
    await field(page, "Max records per shard per second").fill("500");
    await field(page, "Disabled").check();
    assert.equal(await page.locator('#diff-table tr[data-path="/maxRecordsPerShardPerSecond"]').getAttribute("data-effect"), "throttle");
    assert.equal(await page.locator('#diff-table tr[data-path="/disabled"]').getAttribute("data-effect"), "pause");
    assert.deepEqual(await previewBody(page), { shards: 5, maxRecordsPerShardPerSecond: 500, disabled: true });
    await page.screenshot({ path: join(outDir, "console-edit.png"), fullPage: true });

    // A paused connector switched on again resumes.
    await loadSavedExample(page, 2);
    await field(page, "Disabled").uncheck();
    assert.equal(await page.locator('#diff-table tr[data-path="/disabled"]').getAttribute("data-effect"), "resume");
    assert.deepEqual(await previewBody(page), { disabled: false });
    await closeConsole(page);
  });

  test("edit: a new access key without a password asks for the password", async () => {
    const page = await openConsole();
    await loadSavedExample(page, 1);
    await field(page, "User").fill("AKIAI44QH8DHBEXAMPLE");
    assert.equal(await invalid(page, "Password"), "true");
    assert.equal(await page.locator("#f-password-msg .issue.error").getAttribute("data-code"), "credentials.incomplete");
    assert.ok(await page.getByRole("button", { name: "Copy as curl" }).isDisabled());
    await field(page, "Password").fill("wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY");
    assert.equal(await invalid(page, "Password"), null);
    assert.match(await page.locator("#verdict").innerText(), /^Valid/);
    assert.deepEqual(await previewBody(page), { credentials: { user: "AKIAI44QH8DHBEXAMPLE", password: MASK } });
    await closeConsole(page);
  });

  test("edit: changing the id shows a replace as delete + create", async () => {
    const page = await openConsole();
    await loadSavedExample(page, 0);
    await field(page, "Id").fill("dc.kinesis.2");
    const action = page.locator("#diff-action");
    assert.match(await action.getAttribute("class"), /\breplace\b/);
    assert.match(await action.innerText(), /Replace/);
    assert.match(await action.innerText(), /deletes dc\.kinesis\.1 and creates dc\.kinesis\.2/);
    const lines = await page.locator("#request-body .req-line").allInnerTexts();
    assert.equal(lines.length, 2);
    assert.match(lines[0], /^DELETE\s.*\/dataconnectors\/dc\.kinesis\.1$/);
    assert.match(lines[1], /^POST\s.*\/dataconnectors$/);
    assert.equal((await previewBody(page)).id, "dc.kinesis.2");
    assert.equal(await page.locator('#diff-table tr[data-path="/id"]').getAttribute("data-effect"), "recreate");
    // A re-create sends the whole connector, so it needs the password again.
    assert.equal(await invalid(page, "Password"), "true");
    await field(page, "Password").fill("mypassword");
    assert.equal(await invalid(page, "Password"), null);
    assert.equal((await previewBody(page)).credentials.password, MASK);
    await page.screenshot({ path: join(outDir, "console-replace.png"), fullPage: true });
    await closeConsole(page);
  });

  test("the typed password never appears in the page; the copied curl carries it", async () => {
    const page = await openConsole();
    await fillSeedByHand(page, SECRET);
    await page.locator("#verdict", { hasText: /^Valid/ }).waitFor();
    const leaks = async () => page.evaluate((secret) => ({
      text: document.body.innerText.includes(secret),
      html: document.documentElement.outerHTML.includes(secret),
    }), SECRET);
    assert.deepEqual(await leaks(), { text: false, html: false });
    assert.equal((await previewBody(page)).credentials.password, MASK);

    await page.getByRole("button", { name: "Copy as curl" }).click();
    await page.locator("#copy-msg", { hasText: "Copied" }).waitFor();
    const curl = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(curl, /^curl -X POST "\$API_BASE\/v3\/apps\/\$APP_REF\/dataconnectors"/);
    const body = JSON.parse(curl.match(/--data-raw '(.*)'$/s)[1].replace(/'\\''/g, "'"));
    assert.equal(body.credentials.password, SECRET, "the copied request is the real one");
    assert.equal(body.shards, 1);
    assert.deepEqual(await leaks(), { text: false, html: false });

    // Edit mode: a new password goes into the PUT body, masked on the page, and the diff hides it.
    await loadSavedExample(page, 0);
    await field(page, "Password").fill(SECRET);
    const put = await previewBody(page);
    assert.deepEqual(put, { credentials: { user: "AKIAJH44BQER4BMM6Q", password: MASK } });
    assert.equal(await page.locator('#diff-table tbody tr').first().getAttribute("data-effect"), "reconnect");
    assert.deepEqual(await leaks(), { text: false, html: false });
    await page.getByRole("button", { name: "Copy as curl" }).click();
    const putCurl = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(putCurl, /^curl -X PUT .*\/dataconnectors\/dc\.kinesis\.1"/);
    assert.ok(putCurl.includes(SECRET));
    await closeConsole(page);
  });

  test("keyboard only: import a bad region, apply the suggestion, copy the request", async () => {
    const page = await openConsole();
    const focused = () => page.evaluate(() => {
      const node = document.activeElement;
      return { id: node?.id ?? "", tag: node?.tagName ?? "", text: node?.textContent?.trim() ?? "", cls: node?.className ?? "" };
    });
    async function tabTo(match, limit = 60) {
      for (let i = 0; i < limit; i++) {
        await page.keyboard.press("Tab");
        if (match(await focused())) return;
      }
      assert.fail(`Tab never reached the element (last: ${JSON.stringify(await focused())})`);
    }
    await tabTo((f) => f.tag === "SUMMARY" && f.text.startsWith("Import"));
    await page.keyboard.press("Enter");
    await tabTo((f) => f.id === "import-json");
    await page.keyboard.insertText(JSON.stringify({ ...seedBody, region: "us-west2" }));
    await tabTo((f) => f.id === "import-apply");
    await page.keyboard.press("Enter");
    assert.equal(await invalid(page, "Region"), "true");
    await tabTo((f) => typeof f.cls === "string" && f.cls.includes("suggest"));
    await page.keyboard.press("Enter");
    assert.equal(await field(page, "Region").inputValue(), "us-west-2");
    assert.equal((await focused()).id, "f-region");
    await tabTo((f) => f.id === "copy-curl");
    await page.keyboard.press("Enter");
    await page.locator("#copy-msg", { hasText: "Copied" }).waitFor();
    assert.match(await page.evaluate(() => navigator.clipboard.readText()), /"region":"us-west-2"/);

    // The mode switch works with arrow keys.
    await page.getByLabel("Create", { exact: true }).focus();
    await page.keyboard.press("ArrowRight");
    assert.ok(await page.locator("#edit-source").isVisible());
    await closeConsole(page);
  });

  test("360 px wide: no horizontal scrolling in either mode", async () => {
    const page = await openConsole({ width: 360, height: 780 });
    await page.getByRole("button", { name: "Fill with the documentation example" }).click();
    await field(page, "Stream").fill("a stream name that is rather long and has spaces in it");
    await field(page, "Id").fill("dc.kinesis.with.a.very.long.identifier.that.keeps.going.on.and.on");
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(outDir, "console-360.png"), fullPage: true });
    await loadSavedExample(page, 1);
    await field(page, "Shards").fill("40");
    await field(page, "Region").selectOption("eu-west-1");
    await noHorizontalScroll(page);
    await page.screenshot({ path: join(outDir, "console-360-edit.png"), fullPage: true });
    await closeConsole(page);
  });

  test("app context: existing ids and known methods feed the checks", async () => {
    const page = await openConsole();
    await page.getByRole("button", { name: "Fill with the documentation example" }).click();
    await page.getByText("App context").click();
    await page.getByLabel("Existing connector ids").fill("DC.KINESIS.1, other");
    assert.equal(await invalid(page, "Id"), "true");
    assert.equal(await page.locator("#f-id-msg .issue.error").getAttribute("data-code"), "id.duplicate");
    await page.getByLabel("Existing connector ids").fill(Array.from({ length: 10 }, (_, i) => `c${i}`).join("\n"));
    assert.match(await page.locator("#summary-list").innerText(), /10/);
    await page.getByLabel("Existing connector ids").fill("");
    await page.getByLabel("Known method ids").fill("_mtd_1, Ambient_Temp01");
    await field(page, "Data processing method id").fill("Ambient_Temp1");
    assert.equal(await invalid(page, "Data processing method id"), "true");
    assert.equal(await page.locator("#f-dataProcessingMethodId-msg .issue.error").getAttribute("data-code"), "dataProcessingMethodId.unknown");
    await field(page, "Data processing method id").fill("_mtd_1");
    assert.equal(await invalid(page, "Data processing method id"), null);
    await page.getByLabel("App ref").fill("plant7");
    assert.match(await page.locator("#request-body .req-line").innerText(), /\/v3\/apps\/plant7\/dataconnectors$/);
    await closeConsole(page);
  });
});
