// Admin console for the AWS Kinesis data connector. Every check comes from the kinesis-connector
// package (../pkg/index.mjs); this file only reads the form, calls it, and shows the answers.
import { savedExamples, seedCreate } from "./examples.mjs";
import { connectorPath, curlCommand, maskBody } from "./request.mjs";

/** The form's fields, in the order the page shows them; `path` is the JSON pointer of the value. */
const FIELDS = [
  { key: "type", label: "Type", path: "/type" },
  { key: "id", label: "Id", path: "/id" },
  { key: "disabled", label: "Disabled", path: "/disabled" },
  { key: "user", label: "User", path: "/credentials/user" },
  { key: "password", label: "Password", path: "/credentials/password" },
  { key: "region", label: "Region", path: "/region" },
  { key: "stream", label: "Stream", path: "/stream" },
  { key: "shards", label: "Shards", path: "/shards" },
  { key: "maxRecordsPerShardPerSecond", label: "Max records per shard per second", path: "/maxRecordsPerShardPerSecond" },
  { key: "maxBytesPerShardPerSecond", label: "Max bytes per shard per second", path: "/maxBytesPerShardPerSecond" },
  { key: "dataProcessingMethodId", label: "Data processing method id", path: "/dataProcessingMethodId" },
];
const FIELD = Object.fromEntries(FIELDS.map((f) => [f.key, f]));
const NUMERIC = new Set(["shards", "maxRecordsPerShardPerSecond", "maxBytesPerShardPerSecond"]);
/** What a number input holds when the browser cannot read it as a number (e.g. "1e"). */
const UNREADABLE_NUMBER = "not a number";

const EFFECTS = {
  reconnect: "Reconnect",
  reshard: "Reshard",
  throttle: "Throttle",
  method: "Method",
  pause: "Pause",
  resume: "Resume",
  recreate: "Recreate",
};
const EFFECT_DETAILS = {
  reconnect: "the connector reconnects to Kinesis",
  throttle: "new rate limit, applied live",
  method: "new processing method, applied live",
  pause: "streaming stops",
  resume: "streaming starts again",
  recreate: "deleted and created again",
};

const $ = (id) => document.getElementById(id);

/** Create an element: el("p", { class: "x", onclick }, "text", child). */
function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on")) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? "" : String(value));
  }
  node.append(...children.flat().filter((c) => c !== undefined && c !== null && c !== false));
  return node;
}

const state = {
  mode: "create",
  /** Fields the user has worked on; their issues show next to them. */
  touched: new Set(),
  /** After a fill, import or load every field shows its issues. */
  showAll: false,
  /** Top-level fields of an import that the form has no input for; kept so they are checked. */
  extra: {},
  /** Edit mode: the saved connector as loaded. */
  saved: null,
  /** Each mode keeps its own form contents. */
  drafts: { create: null, edit: null },
  /** The last evaluation, for the copy button, and what the page last showed. */
  result: null,
  signature: "",
  regionNames: new Map(),
};

let kc;

// ---------- Reading the form ----------

function inputOf(key) {
  return $(`f-${key}`);
}

function readForm() {
  const values = {};
  for (const { key } of FIELDS) {
    const input = inputOf(key);
    if (key === "disabled") values.disabled = input.checked;
    else if (NUMERIC.has(key) && input.validity.badInput) values[key] = UNREADABLE_NUMBER;
    else values[key] = input.value;
  }
  return values;
}

const filled = (text) => typeof text === "string" && text.trim() !== "";

/**
 * The connector as the form states it, still as form strings: normalize coerces them (SPEC §4).
 * An empty input means "not given", so the checks report it as missing. In edit mode an empty
 * password means "keep the saved one", which is exactly a desired connector without password.
 */
function buildInput(values) {
  const input = {};
  if (filled(values.type)) input.type = values.type;
  if (filled(values.id)) input.id = values.id;
  const credentials = {};
  if (filled(values.user)) credentials.user = values.user;
  if (values.password !== "") credentials.password = values.password;
  if (Object.keys(credentials).length > 0) input.credentials = credentials;
  for (const key of ["region", "stream", "shards", "maxRecordsPerShardPerSecond", "maxBytesPerShardPerSecond", "dataProcessingMethodId"]) {
    if (filled(values[key])) input[key] = values[key];
  }
  input.disabled = values.disabled;
  for (const [key, value] of Object.entries(state.extra)) {
    if (!(key in input)) input[key] = value;
  }
  return input;
}

function listOf(text) {
  return text.split(/[\s,]+/).map((s) => s.trim()).filter(Boolean);
}

/** The app context for the checks, as the user stated it. */
function readContext() {
  const context = {};
  if (filled($("ctx-ids").value)) context.existingIds = listOf($("ctx-ids").value);
  const methods = listOf($("ctx-methods").value);
  if (methods.length > 0) context.methods = methods;
  return context;
}

// ---------- Writing the form ----------

function setRegion(code) {
  const select = inputOf("region");
  for (const option of [...select.options]) if (option.dataset.unknown) option.remove();
  const text = code === undefined || code === null ? "" : String(code);
  if (text !== "" && ![...select.options].some((o) => o.value === text)) {
    // An imported region that is not one of the 20 stays visible, so its error and suggestion can show.
    select.insertBefore(el("option", { value: text, "data-unknown": "true" }, `${text} (not a known region)`), select.options[1] ?? null);
  }
  select.value = text;
}

function setInputValue(key, value) {
  const input = inputOf(key);
  if (key === "disabled") input.checked = value === true || value === "true";
  else if (key === "region") setRegion(value);
  else input.value = value === undefined || value === null ? "" : typeof value === "object" ? JSON.stringify(value) : String(value);
}

/** Put one top-level field of a connector object into the form; false when the form has no input for it. */
function setField(key, value) {
  if (key === "credentials") {
    if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
    for (const [part, partValue] of Object.entries(value)) {
      if (part === "user" || part === "password") setInputValue(part, partValue);
    }
    return true;
  }
  if (key === "dataProcessingMethod" || key === "dataProcessingMethodId") {
    setInputValue("dataProcessingMethodId", value);
    return true;
  }
  if (FIELD[key] && key !== "user" && key !== "password") {
    setInputValue(key, value);
    return true;
  }
  return false;
}

function resetForm() {
  for (const { key } of FIELDS) setInputValue(key, key === "type" ? "aws-kinesis" : "");
  state.extra = {};
  state.touched.clear();
  state.showAll = false;
}

function fillForm(connector) {
  resetForm();
  for (const [key, value] of Object.entries(connector)) {
    if (!setField(key, value)) state.extra[key] = value;
  }
  state.showAll = true;
}

function snapshot() {
  return { values: readForm(), extra: structuredClone(state.extra), touched: new Set(state.touched), showAll: state.showAll };
}

function restore(draft) {
  resetForm();
  if (!draft) return;
  for (const [key, value] of Object.entries(draft.values)) setInputValue(key, value === UNREADABLE_NUMBER ? "" : value);
  state.extra = draft.extra;
  state.touched = draft.touched;
  state.showAll = draft.showAll;
}

// ---------- Checking (all verdicts come from the package) ----------

function issueKey(issue) {
  return `${issue.severity}|${issue.code}|${issue.path}`;
}

function fieldIndex(issue) {
  const key = fieldForPath(issue.path);
  return key ? FIELDS.findIndex((f) => f.key === key) + 1 : issue.path === "" ? 0 : FIELDS.length + 1;
}

/** Errors first, then warnings, each in form order; the same issue from two checks once. */
function collect(...lists) {
  const seen = new Set();
  const issues = [];
  for (const issue of lists.flat()) {
    if (seen.has(issueKey(issue))) continue;
    seen.add(issueKey(issue));
    issues.push(issue);
  }
  const rank = (i) => (i.severity === "error" ? 0 : 1);
  return issues.map((issue, order) => ({ issue, order }))
    .sort((a, b) => rank(a.issue) - rank(b.issue) || fieldIndex(a.issue) - fieldIndex(b.issue) || a.order - b.order)
    .map(({ issue }) => issue);
}

function evaluate() {
  const input = buildInput(readForm());
  if (state.mode === "create") {
    const normalized = kc.normalizeCreate(input);
    const result = kc.validateCreate(normalized.value, readContext());
    return {
      mode: "create",
      normalized,
      issues: collect(result.errors, result.warnings),
      valid: result.valid,
      requests: [{ method: "POST", body: normalized.value }],
    };
  }
  if (!state.saved) return { mode: "edit", empty: true, issues: [], valid: false, requests: [] };

  // The core decides the requests (PUT, or DELETE + POST) and checks them against the app.
  const normalized = kc.normalizeCreate(input);
  const diff = kc.diff(state.saved, normalized.value, readContext());
  return { mode: "edit", normalized, diff, issues: collect(diff.errors, diff.warnings), valid: diff.valid, requests: diff.requests };
}

// ---------- Issues on the page ----------

function fieldForPath(path) {
  if (path === "/credentials") return "user";
  if (path === "/dataProcessingMethod") return "dataProcessingMethodId";
  const field = FIELDS.find((f) => f.path === path);
  if (field) return field.key;
  if (path.startsWith("/credentials/")) return "user";
  return null;
}

function pointerKey(path) {
  const parts = path.split("/");
  return parts.length === 2 ? parts[1].replace(/~1/g, "/").replace(/~0/g, "~") : null;
}

function suggestionFor(issue) {
  const suggestion = issue.params?.suggestion;
  if (typeof suggestion !== "string" || suggestion === "") return null;
  if (issue.code === "field.unknown") {
    const from = pointerKey(issue.path);
    if (from === null || !(from in state.extra)) return null;
    return { text: `Did you mean ${suggestion}?`, apply: () => renameExtra(from, suggestion) };
  }
  const key = fieldForPath(issue.path);
  if (!key) return null;
  const name = key === "region" ? state.regionNames.get(suggestion) : undefined;
  return {
    text: name ? `Did you mean ${suggestion}, ${name}?` : `Did you mean ${suggestion}?`,
    apply: () => {
      setInputValue(key, suggestion);
      return key;
    },
  };
}

function renameExtra(from, to) {
  const value = state.extra[from];
  delete state.extra[from];
  if (!setField(to, value)) state.extra[to] = value;
  return fieldForPath(`/${to}`);
}

function applySuggestion(suggestion) {
  const key = suggestion.apply();
  if (key) state.touched.add(key);
  render();
  announce(`Applied: ${suggestion.text.replace(/^Did you mean /, "").replace(/\?$/, "")}.`);
  const target = key ? inputOf(key) : $("summary-list");
  (target ?? $("summary-list")).focus();
}

function issueNode(issue) {
  const node = el("p", { class: `issue ${issue.severity}`, "data-code": issue.code },
    el("span", { class: "sev" }, issue.severity === "error" ? "Error" : "Warning"),
    el("span", { class: "text" }, issue.message));
  const suggestion = suggestionFor(issue);
  if (suggestion) {
    node.append(el("button", { type: "button", class: "suggest", onclick: () => applySuggestion(suggestion) }, suggestion.text));
  }
  return node;
}

function renderFields(result) {
  for (const { key } of FIELDS) {
    const input = inputOf(key);
    const mine = result.issues.filter((i) => fieldForPath(i.path) === key);
    const shown = state.showAll || state.touched.has(key) ? mine : [];
    $(`f-${key}-msg`).replaceChildren(...shown.map(issueNode));
    const hasError = shown.some((i) => i.severity === "error");
    if (hasError) input.setAttribute("aria-invalid", "true");
    else input.removeAttribute("aria-invalid");
    input.setAttribute("aria-describedby", shown.length > 0 ? `f-${key}-msg f-${key}-hint` : `f-${key}-hint`);
    input.closest(".field").classList.toggle("warned", !hasError && shown.length > 0);
  }
  const extraKeys = Object.keys(state.extra);
  $("extra").hidden = extraKeys.length === 0;
  $("extra-list").replaceChildren(...extraKeys.map((key) => {
    const issues = result.issues.filter((i) => pointerKey(i.path) === key && fieldForPath(i.path) === null);
    return el("li", {},
      el("div", { class: "row" },
        el("code", {}, `${key}: ${JSON.stringify(state.extra[key]) ?? "undefined"}`),
        el("button", { type: "button", class: "quiet", onclick: () => { delete state.extra[key]; render(); announce(`Removed ${key}.`); } }, `Remove ${key}`)),
      ...issues.map(issueNode));
  }));
}

function plural(n, word) {
  return `${n} ${word}${n === 1 ? "" : "s"}`;
}

function setText(node, text) {
  if (node.textContent !== text) node.textContent = text;
}

/** A required field the user has not reached yet: listed as to-do, not as an error. */
function isPending(issue) {
  if (state.showAll || issue.code !== "field.required") return false;
  const key = fieldForPath(issue.path);
  return key !== null && !state.touched.has(key);
}

function renderSummary(result) {
  const verdict = $("verdict");
  const pending = result.issues.filter(isPending).length;
  const errors = result.issues.filter((i) => i.severity === "error").length - pending;
  const warnings = result.issues.filter((i) => i.severity === "warning").length;
  let text;
  let tone;
  if (result.empty) [text, tone] = ["No connector loaded.", "idle"];
  else if (errors === 0 && pending > 0) [text, tone] = [`${plural(pending, "required field")} still to fill in.`, "idle"];
  else if (errors > 0) [text, tone] = [`${plural(errors, "error")}${warnings ? `, ${plural(warnings, "warning")}` : ""}: the platform would reject this.`, "bad"];
  else if (result.diff?.action === "none") [text, tone] = ["No changes.", "idle"];
  else [text, tone] = [`Valid${warnings ? ` with ${plural(warnings, "warning")}` : ""}: ready to send.`, "ok"];
  setText(verdict, text);
  verdict.className = `verdict ${tone}`;
  $("summary-list").replaceChildren(...result.issues.map((issue) => {
    const key = fieldForPath(issue.path);
    const where = key
      ? el("a", { href: `#f-${key}`, onclick: (event) => { event.preventDefault(); state.touched.add(key); render(); inputOf(key).focus(); } }, FIELD[key].label)
      : el("span", { class: "where" }, issue.path === "" ? "Connector" : issue.path);
    const node = issueNode(issue);
    if (isPending(issue)) {
      node.className = "issue todo";
      node.querySelector(".sev").textContent = "To do";
    }
    node.prepend(where);
    return el("li", {}, node);
  }));
}

function formatValue(change, which) {
  if (change.path.includes("password") || change.path === "/credentials") return el("span", { class: "muted" }, "(secret)");
  if (!(which in change) || change[which] === undefined) return el("span", { class: "muted" }, "none");
  return el("code", {}, JSON.stringify(change[which]));
}

function effectNode(effect) {
  if (!effect) return el("span", { class: "muted" }, "none");
  const badge = el("span", { class: `effect ${effect.kind}` }, EFFECTS[effect.kind] ?? effect.kind);
  let detail = EFFECT_DETAILS[effect.kind];
  if (effect.kind === "reshard") {
    const route = effect.from !== undefined && effect.to !== undefined ? `${effect.from} → ${effect.to} shards, ` : "";
    detail = `${route}${plural(effect.steps ?? 0, "UpdateShardCount step")}`;
  }
  return el("span", {}, badge, detail ? el("span", { class: "effect-detail" }, detail) : null);
}

function labelOfPath(path) {
  const key = fieldForPath(path);
  if (path === "/credentials") return "Credentials";
  return key ? FIELD[key].label : path;
}

function renderDiff(result) {
  const section = $("diff");
  section.hidden = result.mode !== "edit" || result.empty;
  if (section.hidden) return;
  const { diff } = result;
  const action = $("diff-action");
  const saved = state.saved;
  if (diff.action === "replace") {
    const newId = result.requests.find((r) => r.method === "POST")?.body.id ?? "(new id)";
    setText(action, `Replace: the ${saved.type !== result.normalized.value.type ? "type" : "id"} changed, which the platform cannot update. `
      + `This deletes ${saved.id} and creates ${newId}; streaming stops in between.`);
  } else if (diff.action === "update") {
    setText(action, `Update in place: ${plural(diff.changes.length, "change")}.`);
  } else {
    setText(action, "No changes: the form matches the saved connector.");
  }
  action.className = `action ${diff.action}`;
  const rows = diff.changes.map((change) => el("tr", { "data-path": change.path, "data-effect": change.effect?.kind ?? "" },
    el("td", {}, el("span", {}, labelOfPath(change.path)), el("span", { class: "effect-detail" }, change.kind)),
    el("td", {}, formatValue(change, "before"), " → ", formatValue(change, "after")),
    el("td", {}, effectNode(change.effect))));
  section.querySelector("tbody").replaceChildren(...rows);
  $("diff-table").hidden = rows.length === 0;
}

function requestLine(request) {
  const base = $("ctx-base").value.trim().replace(/\/+$/, "") || "…";
  return el("p", { class: "req-line" },
    el("span", { class: `verb ${request.method}` }, request.method),
    ` ${base}${connectorPath($("ctx-ref").value.trim(), request.id)}`);
}

function renderRequest(result) {
  const box = $("request-body");
  const nodes = [];
  if (result.empty) nodes.push(el("p", { class: "note" }, "Load a saved connector to see the update request."));
  else if (result.requests.length === 0) nodes.push(el("p", { class: "note" }, "Nothing to send: no field changed."));
  let first = true;
  for (const request of result.requests) {
    const part = el("div", { class: "req" }, requestLine(request));
    if (request.body !== undefined) {
      part.append(el("pre", { class: "req-body", id: first ? "preview-body" : undefined, tabindex: "0", "aria-label": `${request.method} body` },
        JSON.stringify(maskBody(request.body), null, 2)));
      first = false;
    }
    nodes.push(part);
  }
  if (result.mode === "edit" && !result.empty && result.requests.length > 0 && !result.requests.some((r) => r.body?.credentials?.password !== undefined)) {
    nodes.push(el("p", { class: "req-note" }, "The saved password is kept: it is not part of the request."));
  } else if (result.requests.some((r) => r.body?.credentials?.password !== undefined)) {
    nodes.push(el("p", { class: "req-note" }, "The password is masked here; the copied command contains it."));
  }
  box.replaceChildren(...nodes);

  const copy = $("copy-curl");
  copy.disabled = !result.valid || result.requests.length === 0;
  setText(copy, result.requests.length > 1 ? `Copy as curl (${result.requests.length} commands)` : "Copy as curl");
  const changes = result.normalized?.changes ?? [];
  $("normalized").hidden = changes.length === 0;
  setText($("normalized-count"), `(${changes.length})`);
  $("normalized-list").replaceChildren(...changes.map((c) => el("li", {}, el("code", {}, c.path || "/"), ` ${c.message}`)));
}

function renderChrome() {
  const edit = state.mode === "edit";
  $("create-source").hidden = edit;
  $("edit-source").hidden = !edit;
  const noConnector = edit && !state.saved;
  $("edit-empty").hidden = !noConnector;
  for (const group of document.querySelectorAll("#connector-form fieldset")) group.disabled = noConnector;
  setText($("form-title"), edit ? (state.saved ? `Edit ${state.saved.id}` : "Edit a saved connector") : "New connector");
  setText($("f-password-hint").lastChild, edit ? " · AWS secret access key; leave empty to keep the saved one" : " · AWS secret access key");
  inputOf("password").placeholder = edit && state.saved ? "unchanged" : "";
  $("request-title").textContent = edit ? "Request" : "Request preview";
}

function render() {
  let result;
  try {
    result = evaluate();
  } catch (error) {
    showBanner(`The checks failed: ${error instanceof Error ? error.message : String(error)}`);
    return;
  }
  state.result = result;
  // Skip the DOM work when nothing shown would change: a re-render replaces the summary's links
  // and buttons, and a blur-time re-render must not swallow the click that caused the blur.
  const signature = JSON.stringify([result, [...state.touched], state.showAll, state.mode, state.extra,
    $("ctx-base").value, $("ctx-ref").value]);
  if (signature === state.signature) return;
  state.signature = signature;
  renderChrome();
  renderFields(result);
  renderSummary(result);
  renderDiff(result);
  renderRequest(result);
}

// ---------- Actions ----------

function announce(text) {
  const node = $("announcer");
  node.textContent = "";
  requestAnimationFrame(() => { node.textContent = text; });
}

function showBanner(text) {
  const banner = $("load-error");
  banner.textContent = text;
  banner.hidden = false;
}

function setMode(mode) {
  if (mode === state.mode) return;
  state.drafts[state.mode] = snapshot();
  state.mode = mode;
  restore(state.drafts[mode]);
  render();
}

function curlText() {
  const base = $("ctx-base").value.trim();
  const ref = $("ctx-ref").value.trim();
  return state.result.requests.map((request) => curlCommand({ ...request, base, ref })).join(" &&\n");
}

async function copyCurl() {
  if (!state.result?.valid || state.result.requests.length === 0) return;
  const text = curlText();
  const message = $("copy-msg");
  try {
    await navigator.clipboard.writeText(text);
  } catch {
    // No clipboard API (insecure origin, no permission): copy through a short-lived textarea.
    const area = el("textarea", { class: "visually-hidden", "aria-hidden": "true" });
    area.value = text;
    document.body.append(area);
    area.select();
    const ok = document.execCommand("copy");
    area.remove();
    if (!ok) {
      message.textContent = "Copying failed: the browser denied access to the clipboard.";
      return;
    }
  }
  message.textContent = "Copied. The command includes the password; it reads the token from $API_TOKEN.";
}

function loadSaved() {
  const message = $("saved-msg");
  let connector;
  try {
    connector = JSON.parse($("saved-json").value);
  } catch (error) {
    message.textContent = `Not JSON: ${error.message}`;
    return;
  }
  if (connector === null || typeof connector !== "object" || Array.isArray(connector)) {
    message.textContent = "A saved connector is a JSON object.";
    return;
  }
  state.saved = connector;
  fillForm(connector);
  // The platform never returns the password; an empty field keeps the saved one.
  setInputValue("password", "");
  message.textContent = `Loaded ${connector.id ?? "the connector"}.`;
  render();
  inputOf("id").focus();
}

function importCreate() {
  const message = $("import-msg");
  let connector;
  try {
    connector = JSON.parse($("import-json").value);
  } catch (error) {
    message.textContent = `Not JSON: ${error.message}`;
    return;
  }
  if (connector === null || typeof connector !== "object" || Array.isArray(connector)) {
    message.textContent = "A create body is a JSON object.";
    return;
  }
  fillForm(connector);
  // The pasted text may hold a secret; it now lives in the password input only.
  $("import-json").value = "";
  message.textContent = "Form filled from the JSON.";
  render();
}

function wire() {
  const form = $("connector-form");
  const onEdit = (event) => {
    const key = event.target.id?.startsWith("f-") ? event.target.id.slice(2) : null;
    if (!key || !FIELD[key]) return;
    if (key === "region") setRegion(event.target.value);
    state.touched.add(key);
    render();
  };
  form.addEventListener("input", onEdit);
  form.addEventListener("submit", (event) => event.preventDefault());

  for (const radio of document.querySelectorAll('input[name="mode"]')) {
    radio.addEventListener("change", () => radio.checked && setMode(radio.value));
  }
  $("fill-seed").addEventListener("click", () => {
    fillForm(seedCreate);
    render();
    announce("Form filled with the documentation example.");
  });
  $("clear-form").addEventListener("click", () => {
    resetForm();
    render();
    inputOf("id").focus();
  });
  $("import-apply").addEventListener("click", importCreate);
  $("saved-example").addEventListener("change", (event) => {
    const example = savedExamples[Number(event.target.value)];
    if (example) $("saved-json").value = JSON.stringify(example.value, null, 2);
  });
  $("saved-load").addEventListener("click", loadSaved);
  $("copy-curl").addEventListener("click", copyCurl);
  for (const id of ["ctx-base", "ctx-ref", "ctx-ids", "ctx-methods"]) $(id).addEventListener("input", () => {
    if (id === "ctx-methods") {
      $("known-methods").replaceChildren(...listOf($(id).value).map((m) => el("option", { value: m })));
    }
    render();
  });
}

function populate() {
  const regions = kc.regions();
  for (const { code, name } of regions) state.regionNames.set(code, name);
  inputOf("region").replaceChildren(
    el("option", { value: "" }, "Choose a region…"),
    ...regions.map(({ code, name }) => el("option", { value: code }, `${name} · ${code}`)));
  $("saved-example").replaceChildren(...savedExamples.map((example, index) => el("option", { value: index }, example.label)));
  $("saved-json").value = JSON.stringify(savedExamples[0].value, null, 2);
}

async function start() {
  try {
    kc = await import("../pkg/index.mjs");
  } catch (error) {
    showBanner(`The kinesis-connector package could not be loaded (${error instanceof Error ? error.message : error}). Run \`make build\`, then reload.`);
    return;
  }
  try {
    populate();
  } catch (error) {
    showBanner(`The kinesis-connector package does not work here (${error instanceof Error ? error.message : error}). Rebuild it with \`make build\`, then reload.`);
    return;
  }
  wire();
  resetForm();
  render();
  $("main").setAttribute("aria-busy", "false");
  document.documentElement.dataset.ready = "true";
}

start();
