// The composer page: a thin layer over the JSON API (/api/...). No libraries, nothing from the internet.
"use strict";
const $ = (id) => document.getElementById(id);
let current = null;        // the tune on the page: the last API answer
const history = [];        // earlier answers, for Undo
const selected = new Set(); // bar numbers (1-based)
let tempoSet = false;      // the slider was moved for this tune: send its tempo, else the tune's own

function showError(message) {
  const box = $("error");
  box.textContent = message; box.hidden = !message;
}

async function api(method, url, body) {
  document.body.classList.add("busy");
  document.querySelectorAll("button").forEach((b) => { if (b.id !== "undo") b.disabled = true; });
  try {
    const response = await fetch(url, {method, headers: body ? {"Content-Type": "application/json"} : {},
                                       body: body ? JSON.stringify(body) : undefined});
    const data = await response.json().catch(() => ({error: `${response.status} ${response.statusText}`}));
    if (!response.ok) throw new Error(data.error || `request failed (${response.status})`);
    showError("");
    return data;
  } catch (e) {
    showError(e.message);
    throw e;
  } finally {
    document.body.classList.remove("busy");
    document.querySelectorAll("button").forEach((b) => { if (b.id !== "undo") b.disabled = false; });
  }
}

function numberOrNull(id) { const v = $(id).value.trim(); return v === "" ? null : Number(v); }

function sampling() {
  return {temperature: numberOrNull("temperature") ?? 1, top_p: numberOrNull("top_p"), random_seed: numberOrNull("seed"),
          ...sound()};
}

function sound() {  // how the audio plays: instrument, tempo (null: the tune's own), guitar chords
  return {program: $("program").value, tempo: tempoSet ? Number($("tempo").value) : null, chords: $("chords").checked};
}

function showSound(tune) {
  if (tune.audio) $("audio").src = tune.audio; else $("audio").removeAttribute("src");
  $("midi").hidden = !tune.midi;
  if (tune.midi) $("midi").href = tune.midi;
  if (tune.sound && tune.sound.tempo) { $("tempo").value = tune.sound.tempo; $("tempo-value").value = $("tempo").value; }
}

function show(tune, remember = true) {
  if (remember && current) history.push(current);
  current = tune;
  selected.clear();
  $("result").hidden = false;
  $("undo").disabled = history.length === 0;
  $("tune-title").textContent = tune.title || "Untitled";
  const problems = (tune.problems || []).join("; ");
  $("status").textContent = tune.valid ? "A playable tune." : `Not a complete tune yet${problems ? ": " + problems : ""}.`;
  const closest = tune.closest;  // the nearest corpus tune (charrnn similar): is it new?
  $("closest").hidden = !closest;
  $("closest-label").textContent = closest ? closest.label : "";
  $("closest").title = closest && closest.bars.length
    ? "shared bars (this tune = that one): " + closest.bars.map(([a, b]) => `${a}=${b}`).join(", ") : "";
  $("abc").value = tune.abc;
  $("score").hidden = !tune.score;
  if (tune.score) $("score").src = tune.score;
  showSound(tune);
  drawBars(tune.bars || []);
  drawScoreBars(tune);
}

function drawScoreBars(tune) {  // a clickable box over each bar of the score (where abcm2ps drew it)
  const layer = $("score-bars");
  layer.replaceChildren();
  layer.style.display = tune.score_size ? "" : "none";
  if (!tune.score_size) return;
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

function drawBars(spans) {
  const box = $("bars");
  box.replaceChildren();
  const abc = $("abc").value;
  spans.forEach(([start, end], i) => {
    const b = document.createElement("button");
    b.type = "button"; b.dataset.bar = i + 1; b.dataset.start = start; b.dataset.end = end;
    b.innerHTML = `<sup>${i + 1}</sup>`;
    b.append(abc.slice(start, end));
    b.classList.toggle("selected", selected.has(i + 1));
    b.addEventListener("click", () => { toggleBar(i + 1); });
    box.append(b);
  });
}

function toggleBar(n, on) {
  const want = on ?? !selected.has(n);
  if (want) selected.add(n); else selected.delete(n);
  const chip = document.querySelector(`#bars button[data-bar="${n}"]`);
  if (chip) chip.classList.toggle("selected", want);
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

let barsTimer = null;
function refreshBars() {  // the ABC was edited: number its bars again
  clearTimeout(barsTimer);
  if (current) $("score-bars").style.display = $("abc").value === current.abc ? "" : "none";  // boxes fit the shown score only
  barsTimer = setTimeout(async () => {
    if (!$("abc").value.trim()) return drawBars([]);
    try { drawBars((await api("POST", "/api/bars", {abc: $("abc").value})).bars); } catch (e) { /* shown */ }
  }, 400);
}

async function run(method, url, body) {
  const earlier = url === "/api/compose" ? {} : (current && current.settings) || {};
  try {
    const tune = await api(method, url, body);
    tune.settings = {...earlier, ...tune.settings};  // a varied jig is still a jig in D
    show(tune);
  } catch (e) { /* the message is on the page */ }
}

$("type").addEventListener("change", () => {
  const meter = $("type").selectedOptions[0].dataset.meter;
  if (meter) $("meter").value = meter;
});
$("compose-form").addEventListener("submit", (ev) => {
  ev.preventDefault();
  tempoSet = false;  // a new tune plays at its own tempo until the slider moves
  run("POST", "/api/compose", {type: $("type").value || null, meter: $("meter").value || null,
                               key: $("key").value || null, title: $("title").value.trim() || null,
                               seed: $("start").value, ...sampling()});
});
$("vary").addEventListener("click", () => {
  if (!selected.size) return showError("Select one or more bars to vary first (click them).");
  run("POST", "/api/vary", {abc: $("abc").value, bars: [...selected].sort((a, b) => a - b),
                            candidates: numberOrNull("candidates") ?? 8, ...sampling()});
});
$("continue").addEventListener("click", () => {
  const ta = $("abc");
  run("POST", "/api/continue", {abc: ta.value.slice(0, ta.selectionStart), ...sampling()});
});
$("fill").addEventListener("click", () => run("POST", "/api/fill", {abc: $("abc").value, candidates: numberOrNull("candidates") ?? 8, ...sampling()}));
$("render").addEventListener("click", () => run("POST", "/api/render", {abc: $("abc").value, ...sound()}));

async function resound() {  // the same tune in another instrument, tempo or accompaniment: no new sampling
  if (!current) return;
  try {
    const answer = await api("POST", "/api/sound", {abc: current.abc, ...sound()});
    Object.assign(current, {audio: answer.audio, midi: answer.midi, sound: answer.sound});
    showSound(current);
  } catch (e) { /* the message is on the page */ }
}
$("program").addEventListener("change", resound);
$("chords").addEventListener("change", resound);
$("tempo").addEventListener("input", () => { $("tempo-value").value = $("tempo").value; });
$("tempo").addEventListener("change", () => { tempoSet = true; resound(); });
$("undo").addEventListener("click", () => { if (history.length) show(history.pop(), false); });
$("abc").addEventListener("input", refreshBars);
$("abc").addEventListener("mouseup", selectFromText);
$("abc").addEventListener("keyup", selectFromText);

function showImage(id, url) { $(id).hidden = !url; if (url) $(id).src = url; else $(id).removeAttribute("src"); }

async function compare() {  // the tune on the page beside its closest corpus tune, as two scores
  if (!current) return;
  let answer;
  try { answer = await api("POST", "/api/compare", {abc: current.abc}); } catch (e) { return; }
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
async function loadBook() {
  let tunes = [];
  try { tunes = (await api("GET", "/api/tunebook")).tunes; } catch (e) { return; }
  const list = $("book-list");
  list.replaceChildren();
  for (const t of tunes) {
    const li = document.createElement("li");
    li.dataset.id = t.id;
    const name = document.createElement("span");
    name.className = "name"; name.textContent = t.title;
    li.append(name, ` (${t.settings.type || "tune"}, ${t.model}) `);
    const button = (label, action) => {
      const b = document.createElement("button"); b.type = "button"; b.textContent = label;
      b.addEventListener("click", action); li.append(b);
    };
    button("Open", async () => {
      try { const e = await api("GET", `/api/tunebook/${t.id}`); await run("POST", "/api/render", {abc: e.abc, ...sound()}); } catch (e) { /* shown */ }
    });
    button("Rename", async () => {
      const title = prompt("New title", t.title);
      if (title) { try { await api("POST", `/api/tunebook/${t.id}`, {title}); } catch (e) { return; } loadBook(); }
    });
    button("Delete", async () => {
      if (confirm(`Delete "${t.title}"?`)) { try { await api("DELETE", `/api/tunebook/${t.id}`); } catch (e) { return; } loadBook(); }
    });
    list.append(li);
  }
}
$("save").addEventListener("click", async () => {
  if (!$("abc").value.trim()) return showError("Nothing to save yet: compose a tune first.");
  const settings = current ? {...(current.settings || {})} : {};
  try {
    await api("POST", "/api/tunebook", {abc: $("abc").value, title: $("save-title").value.trim() || null, settings});
  } catch (e) { return; }
  loadBook();
});
loadBook();
