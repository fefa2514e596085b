// The composer page: a thin layer over the JSON API (/api/...). No libraries, nothing from the internet.
//
// State: `present` is what the page shows ({abc: the text, tune: the server's answer it was drawn
// from, or null}); every change (an answer, the musician's own typing, a re-render) first puts the
// state before it on the undo stack, so Undo/Redo walk through all of them. Both are kept in
// localStorage, so a reload brings the tune and its history back (media the server has cleared
// are drawn again on demand). Requests: one tune request at a time (its answer is dropped when it
// was cancelled or superseded), each shown with elapsed time and a Cancel button; /api/bars runs
// on the side and never touches the busy state.
"use strict";
const $ = (id) => document.getElementById(id);
const STORE = "charrnn-composer";
const KEEP = 40;  // undo steps kept across a reload
const SERVER_DOWN = "The composer server is not answering. Is `charrnn serve` still running? Start it again, then retry.";
// Which control an error is about: the start of the server's message -> the field's id.
const FIELD_WORDS = [["Temperature", "temperature"], ["Top-p", "top_p"], ["Seed", "seed"], ["Opening bars", "start"],
                     ["Title", "title"], ["Candidates", "candidates"], ["Parts", "parts"],
                     ["Drafts", "drafts"]];

let present = {abc: "", tune: null};
let undoStack = [], redoStack = [];
let typingRun = false;     // this burst of typing is already one undo step
let typingTimer = null;
let running = null;        // the tune request in flight: {controller, label, button, started, timer}
let requestCount = 0;      // tags requests: an answer is shown only when its tag is still the latest
const selected = new Set(); // bar indexes (1-based, as the API counts them; the chips show musicians' numbers)
let tempoSet = false;      // the slider was moved for this tune: send its tempo, else the tune's own

// ---------------------------------------------------------------- errors and progress
function showError(message, field) {
  clearFieldErrors();
  $("error").textContent = message;
  $("toast").hidden = !message;
  const input = field && $(field);
  if (input) {
    input.setAttribute("aria-invalid", "true");
    const note = $(`${field}-error`);
    if (note) note.textContent = message;
  }
}
function clearFieldErrors() {
  document.querySelectorAll("[aria-invalid]").forEach((e) => e.removeAttribute("aria-invalid"));
  document.querySelectorAll(".field-error").forEach((e) => { e.textContent = ""; });
}
function fieldOf(message) { const hit = FIELD_WORDS.find(([words]) => message.startsWith(words)); return hit && hit[1]; }
$("toast-close").addEventListener("click", () => showError(""));

function setStatus(text) { $("status").textContent = text; }

function startProgress(label, button) {
  const controller = new AbortController();
  running = {controller, label, button, started: performance.now(), tag: ++requestCount};
  document.body.classList.add("busy");
  tuneButtons().forEach((b) => { b.disabled = true; });
  $("progress").hidden = false;
  const tick = () => {
    const seconds = (performance.now() - running.started) / 1000;
    $("progress-text").textContent = `${label}… ${seconds.toFixed(0)} s`;
  };
  tick();
  running.timer = setInterval(tick, 500);
  return running;
}
function endProgress(job) {
  clearInterval(job.timer);
  if (running !== job) return;
  running = null;
  document.body.classList.remove("busy");
  $("progress").hidden = true;
  tuneButtons().forEach((b) => { b.disabled = false; });
  updateHistoryButtons();
  if (job.button && document.activeElement === document.body) job.button.focus();  // keyboard users stay put
}
function tuneButtons() {  // what starts a tune request: disabled while one runs (Undo cancels it instead)
  return [...document.querySelectorAll("#compose, #vary, #continue, #fill, #render, #save, #book-list button")];
}
function cancelRunning() {
  if (!running) return false;
  running.controller.abort();
  return true;
}
$("cancel").addEventListener("click", () => { if (cancelRunning()) setStatus("Cancelled: the tune is as it was."); });

async function call(method, url, body, signal) {  // the JSON answer, or an Error in words
  let response;
  try {
    response = await fetch(url, {method, signal, headers: body ? {"Content-Type": "application/json"} : {},
                                 body: body ? JSON.stringify(body) : undefined});
  } catch (e) {
    if (e.name === "AbortError") throw e;
    throw new Error(SERVER_DOWN);
  }
  const data = await response.json().catch(() => ({error: `The server answered ${response.status} ${response.statusText}.`}));
  if (!response.ok) throw new Error(data.error || `The server answered ${response.status}.`);
  return data;
}

// One tune request: progress with Cancel, the answer dropped when cancelled or superseded.
async function request(label, button, method, url, body) {
  if (running) return null;
  const job = startProgress(label, button);
  try {
    const data = await call(method, url, body, job.controller.signal);
    if (job.tag !== requestCount || job.controller.signal.aborted) return null;  // stale: never shown
    showError("");
    return data;
  } catch (e) {
    if (e.name !== "AbortError") { showError(e.message, fieldOf(e.message)); setStatus("Nothing changed: see the message below."); }
    return null;
  } finally {
    endProgress(job);
  }
}

// ---------------------------------------------------------------- reading the form
function numberField(id, {min, max, whole = false, optional = false, name}) {
  const text = $(id).value.trim();
  if (text === "" && optional) return null;
  const value = Number(text);
  const ok = text !== "" && Number.isFinite(value) && value >= min && value <= max && (!whole || Number.isInteger(value));
  if (!ok) {
    const what = whole ? "a whole number" : "a number";
    throw Object.assign(new Error(`${name} must be ${what} between ${min} and ${max}` +
                                  (text === "" ? " (the field is empty)." : ` (you wrote “${text}”).`)), {field: id});
  }
  return value;
}

function sampling(withSeed = true) {  // the sampling controls: a refusal names the field
  const seedFixed = withSeed || $("seed-all").checked;
  return {temperature: numberField("temperature", {min: 0.05, max: 5, name: "Temperature"}),
          top_p: numberField("top_p", {min: 0.01, max: 1, optional: true, name: "Top-p"}),
          random_seed: seedFixed ? numberField("seed", {min: 0, max: 4294967295, whole: true, optional: true, name: "Seed"}) : null,
          ...sound()};
}
function candidates() { return numberField("candidates", {min: 1, max: 64, whole: true, name: "Candidates"}); }

function structure() {  // parts x bars as charrnn writes form: "AABB:8"; bars alone are bars of AABB
  const parts = $("parts").value, bars = $("part-bars").value;
  return bars ? `${parts || "AABB"}:${bars}` : parts || null;
}

function composeBody() {  // the "New tune" form as /api/compose reads it (more controls join here)
  return {type: $("type").value || null, meter: $("meter").value || null, key: $("key").value || null,
          structure: structure(), drafts: $("drafts").value ? Number($("drafts").value) : null,
          title: $("title").value.trim() || null, seed: $("start").value, ...sampling()};
}

function sound() {  // how the audio plays: instrument, tempo (null: the tune's own), guitar chords
  return {program: $("program").value, tempo: tempoSet ? Number($("tempo").value) : null, chords: $("chords").checked};
}

function formOrError(build) {  // the body, or null with the refusal shown beside its field
  try { return build(); } catch (e) { showError(e.message, e.field); $(e.field)?.focus(); return null; }
}

// ---------------------------------------------------------------- history
function snapshot() { return {abc: $("abc").value, tune: present.tune}; }
function record() { undoStack.push(snapshot()); if (undoStack.length > KEEP) undoStack.shift(); redoStack = []; }
function updateHistoryButtons() {
  $("undo").disabled = !running && undoStack.length === 0;
  $("redo").disabled = !!running || redoStack.length === 0;
}
function save() {
  try {
    localStorage.setItem(STORE, JSON.stringify({present: snapshot(), undo: undoStack.slice(-KEEP), redo: redoStack.slice(-KEEP)}));
  } catch (e) { /* storage full or off: the page still works */ }
}

function apply(tune, settings) {  // a server answer becomes the tune on the page (one undo step)
  tune.settings = {...settings, ...tune.settings};  // the tune's own header (type, meter, key) wins
  record();
  typingRun = false;
  present = {abc: tune.abc, tune};
  draw();
}

function travel(from, to) {  // Undo or Redo
  if (!from.length) return;
  to.push(snapshot());
  present = from.pop();
  typingRun = false;
  draw();
  refreshMedia();
}
$("undo").addEventListener("click", () => {
  if (cancelRunning()) return setStatus("Cancelled: the tune is as it was.");  // undo what has not happened yet
  travel(undoStack, redoStack);
});
$("redo").addEventListener("click", () => travel(redoStack, undoStack));

$("abc").addEventListener("input", () => {
  if (!typingRun) { undoStack.push({abc: present.abc, tune: present.tune}); redoStack = []; typingRun = true; }
  present = {abc: $("abc").value, tune: present.tune};
  clearTimeout(typingTimer);
  typingTimer = setTimeout(() => { typingRun = false; }, 1000);
  showState();
  updateHistoryButtons();
  save();
  refreshBars();
});

// ---------------------------------------------------------------- drawing
function draw() {  // everything the page shows from `present`
  const tune = present.tune;
  selected.clear();
  $("result").hidden = !present.abc && !tune;
  if ($("abc").value !== present.abc) $("abc").value = present.abc;
  $("tune-title").textContent = (tune && tune.title) || "Untitled";
  const closest = tune && tune.closest;  // the nearest corpus tune (charrnn similar): is it new?
  $("closest").hidden = !closest;
  $("closest-label").textContent = closest ? closest.label : "";
  $("closest").title = closest && closest.bars.length
    ? "shared bars (this tune = that one): " + closest.bars.map(([a, b]) => `${a}=${b}`).join(", ") : "";
  $("score").hidden = !(tune && tune.score);
  if (tune && tune.score) $("score").src = tune.score; else $("score").removeAttribute("src");
  if (tune) showSound(tune);
  drawBars(tune && tune.abc === present.abc ? tune.bars || [] : [], tune && tune.abc === present.abc ? tune.numbers : null);
  if (!tune || tune.abc !== present.abc) refreshBars();
  drawScoreBars(tune);
  showState();
  updateHistoryButtons();
  save();
}

function showState() {  // the status line: is what you hear what you see?
  const tune = present.tune;
  $("score-bars").style.display = tune && tune.abc === present.abc && tune.score_size ? "" : "none";
  if (!tune) return setStatus(present.abc ? "Your text, not drawn yet: press “Show my edits”." : "");
  if (tune.abc !== present.abc) return setStatus("You have edited the text: the score and audio show the version before. Press “Show my edits”.");
  const problems = (tune.problems || []).join("; ");
  setStatus(tune.valid ? "A playable tune." : `Not a complete tune yet${problems ? ": " + problems : ""}.`);
}

function showSound(tune) {
  if (tune.audio) $("audio").src = tune.audio; else $("audio").removeAttribute("src");
  $("midi").hidden = !tune.midi;
  if (tune.midi) $("midi").href = tune.midi;
  if (tune.sound && tune.sound.tempo) { $("tempo").value = tune.sound.tempo; $("tempo-value").value = $("tempo").value; }
}

function drawScoreBars(tune) {  // a clickable box over each bar of the score (where abcm2ps drew it)
  const layer = $("score-bars");
  layer.replaceChildren();
  if (!tune || !tune.score_size) return;
  layer.setAttribute("viewBox", `0 0 ${tune.score_size[0]} ${tune.score_size[1]}`);
  layer.setAttribute("preserveAspectRatio", "none");
  (tune.bar_boxes || []).forEach((box, i) => {
    if (!box) return;
    const r = document.createElementNS(layer.namespaceURI, "rect");
    ["x", "y", "width", "height"].forEach((k, j) => r.setAttribute(k, box[j]));
    r.dataset.bar = i + 1;
    r.classList.toggle("selected", selected.has(i + 1));
    r.addEventListener("click", () => toggleBar(i + 1));
    layer.append(r);
  });
}

function drawBars(spans, numbers) {  // one chip a bar, numbered as musicians number them (a pickup is not bar 1)
  const box = $("bars");
  box.replaceChildren();
  const abc = $("abc").value;
  spans.forEach(([start, end], i) => {
    const n = numbers ? numbers[i] : i + 1;
    const b = document.createElement("button");
    b.type = "button"; b.dataset.bar = i + 1; b.dataset.start = start; b.dataset.end = end;
    const label = document.createElement("sup");
    label.textContent = n === 0 ? "pickup" : n;
    b.append(label, abc.slice(start, end));
    b.setAttribute("aria-label", `${n === 0 ? "pickup" : "bar " + n}: ${abc.slice(start, end)}`);
    b.setAttribute("aria-pressed", String(selected.has(i + 1)));
    b.addEventListener("click", () => { toggleBar(i + 1); });
    box.append(b);
  });
}

function toggleBar(n, on) {
  const want = on ?? !selected.has(n);
  if (want) selected.add(n); else selected.delete(n);
  const chip = document.querySelector(`#bars button[data-bar="${n}"]`);
  if (chip) chip.setAttribute("aria-pressed", String(want));
  const box = document.querySelector(`#score-bars rect[data-bar="${n}"]`);
  if (box) box.classList.toggle("selected", want);
}

function selectFromText() {  // bars that the text selection touches
  const ta = $("abc");
  if (ta.selectionStart === ta.selectionEnd) return;
  document.querySelectorAll("#bars button").forEach((chip) => {
    const hit = Number(chip.dataset.start) < ta.selectionEnd && Number(chip.dataset.end) > ta.selectionStart;
    toggleBar(Number(chip.dataset.bar), hit);
  });
}

let barsTimer = null, barsController = null;
function refreshBars() {  // the text was edited: number its bars again (on the side: no busy state)
  clearTimeout(barsTimer);
  barsTimer = setTimeout(async () => {
    const abc = $("abc").value;
    if (!abc.trim()) return drawBars([]);
    if (barsController) barsController.abort();
    barsController = new AbortController();
    try {
      const answer = await call("POST", "/api/bars", {abc}, barsController.signal);
      if ($("abc").value === abc) drawBars(answer.bars, answer.numbers);  // an answer for older text is dropped
    } catch (e) { /* the bars stay as they were; a real request will say what is wrong */ }
  }, 400);
}

// Media the server no longer has (a restart, or 200 newer renders): drawn again from the text.
async function refreshMedia() {
  const tune = present.tune;
  if (!tune || !tune.score || running) return;
  let gone = false;
  try { gone = (await fetch(tune.score, {method: "GET", cache: "no-store"})).status === 404; } catch (e) { return; }
  if (!gone || present.tune !== tune) return;
  setStatus("The score and audio of this version were cleared on the server; drawing them again…");
  const fresh = await request("Drawing the score and audio again", null, "POST", "/api/render", {abc: tune.abc, ...sound()});
  if (!fresh || present.tune !== tune) return;
  fresh.settings = {...tune.settings, ...fresh.settings};
  const fix = (s) => (s.tune === tune ? {...s, tune: fresh} : s);  // the same version, with its new media
  undoStack = undoStack.map(fix); redoStack = redoStack.map(fix);
  present = {...present, tune: fresh};
  draw();
}

// ---------------------------------------------------------------- actions
async function act(label, button, url, body, settings) {  // a tune request whose answer becomes the tune
  if (!body) return;
  const tune = await request(label, button, "POST", url, body);
  if (tune) apply(tune, settings);
  if (button && !running) button.focus();  // back where the keyboard was (Vary, Continue, Fill)
}
function earlier() { return (present.tune && present.tune.settings) || {}; }

$("type").addEventListener("change", () => {
  const meter = $("type").selectedOptions[0].dataset.meter;
  if (meter) $("meter").value = meter;
});
$("compose-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  tempoSet = false;  // a new tune plays at its own tempo until the slider moves
  const what = $("type").value ? `Composing a ${$("type").value}` : "Composing a tune";
  act(what, $("compose"), "/api/compose", formOrError(composeBody), {});
});
$("vary").addEventListener("click", () => {
  if (!selected.size) return showError("Select one or more bars to vary first (click them on the score or below it).");
  act("Varying the selected bars", $("vary"), "/api/vary", formOrError(() => (
    {abc: $("abc").value, bars: [...selected].sort((a, b) => a - b), candidates: candidates(), ...sampling(false)})), earlier());
});
$("continue").addEventListener("click", () => {
  const ta = $("abc");
  act("Continuing from the cursor", $("continue"), "/api/continue",
      formOrError(() => ({abc: ta.value.slice(0, ta.selectionStart), ...sampling(false)})), earlier());
});
$("fill").addEventListener("click", () => act("Filling the * bars", $("fill"), "/api/fill",
  formOrError(() => ({abc: $("abc").value, candidates: candidates(), ...sampling(false)})), earlier()));
$("render").addEventListener("click", () => act("Drawing your edits", $("render"), "/api/render",
  {abc: $("abc").value, ...sound()}, earlier()));

async function resound() {  // the same tune in another instrument, tempo or accompaniment: no new sampling
  const tune = present.tune;
  if (!tune) return;
  const answer = await request("Playing it with the new sound", null, "POST", "/api/sound", {abc: tune.abc, ...sound()});
  if (!answer || present.tune !== tune) return;
  Object.assign(tune, {audio: answer.audio, midi: answer.midi, sound: answer.sound});
  showSound(tune);
  save();
}
$("program").addEventListener("change", resound);
$("chords").addEventListener("change", resound);
$("tempo").addEventListener("input", () => { $("tempo-value").value = $("tempo").value; });
$("tempo").addEventListener("change", () => { tempoSet = true; resound(); });
$("abc").addEventListener("mouseup", selectFromText);
$("abc").addEventListener("keyup", selectFromText);
document.addEventListener("keydown", (ev) => {
  if (ev.key === "Escape" && running) { cancelRunning(); setStatus("Cancelled: the tune is as it was."); }
});

function showImage(id, url) { $(id).hidden = !url; if (url) $(id).src = url; else $(id).removeAttribute("src"); }

async function compare() {  // the tune on the page beside its closest corpus tune, as two scores
  if (!present.tune) return;
  const answer = await request("Finding the closest tune", $("compare"), "POST", "/api/compare", {abc: present.tune.abc});
  if (!answer) return;
  const {tune, closest} = answer;
  $("compare-tune-title").textContent = `This tune: ${tune.title || "Untitled"}`;
  $("compare-closest-title").textContent = `Closest: ${closest.label}`;
  showImage("compare-tune", tune.score);
  showImage("compare-closest", closest.image);
  $("compare-bars").textContent = closest.runs
    ? `Shared bars (this tune = that one): ${closest.runs}` : "No bars in common.";
  $("compare-dialog").showModal();  // Escape closes it too; focus returns to the button
}
$("compare").addEventListener("click", compare);
$("compare-close").addEventListener("click", () => $("compare-dialog").close());

// ---------------------------------------------------------------- tunebook
function modelName(model) { return (model || "").replace(/\/?[^/]*\.weights\.h5$/, "") || "model"; }

async function loadBook() {
  let tunes;
  try { tunes = (await call("GET", "/api/tunebook")).tunes; } catch (e) { return showError(e.message); }
  const list = $("book-list");
  list.replaceChildren();
  for (const t of tunes) {
    const li = document.createElement("li");
    li.dataset.id = t.id;
    const name = document.createElement("span");
    name.className = "name"; name.textContent = t.title;
    li.append(name, ` (${t.settings.type || "tune"}, ${modelName(t.model)}) `);
    const button = (label, action) => {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label;
      b.disabled = !!running;
      b.addEventListener("click", () => action(b)); li.append(b);
    };
    button("Open", async (b) => {
      const e = await request(`Opening “${t.title}”`, b, "GET", `/api/tunebook/${t.id}`);
      if (e) await act(`Drawing “${t.title}”`, b, "/api/render", {abc: e.abc, ...sound()}, e.settings);
    });
    button("Rename", async (b) => {
      const title = prompt("New title", t.title);
      if (title === null) return;
      if (!title.trim()) return showError("The title is blank: write a name.");
      if (await request("Renaming", b, "POST", `/api/tunebook/${t.id}`, {title})) loadBook();
    });
    button("Delete", async (b) => {
      if (confirm(`Delete "${t.title}"?`) && await request("Deleting", b, "DELETE", `/api/tunebook/${t.id}`)) loadBook();
    });
    list.append(li);
  }
}
$("save").addEventListener("click", async () => {
  if (!$("abc").value.trim()) return showError("Nothing to save yet: compose a tune first.");
  const settings = {...earlier()};
  const saved = await request("Saving to the tunebook", $("save"), "POST", "/api/tunebook",
                              {abc: $("abc").value, title: $("save-title").value.trim() || null, settings});
  if (saved) { setStatus(`Saved as “${saved.title}”.`); loadBook(); }
});

// ---------------------------------------------------------------- start: the tune of the last visit
function restore() {
  try {
    const kept = JSON.parse(localStorage.getItem(STORE) || "null");
    if (!kept || !kept.present) return;
    present = kept.present; undoStack = kept.undo || []; redoStack = kept.redo || [];
    draw();
    refreshMedia();
  } catch (e) { localStorage.removeItem(STORE); }
}
restore();
loadBook();
