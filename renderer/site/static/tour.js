// The tour's Ask box. Served by `novapress serve`, it streams a live answer from the model
// (server-sent events over fetch); opened as files, it replays the cached answers embedded
// in the page. Model and user text only ever reaches the page through textContent.
"use strict";

(function ask() {
  const root = document.querySelector("[data-ask]");
  if (!root) return;
  const form = root.querySelector("[data-ask-form]");
  const input = root.querySelector("[data-ask-input]");
  const go = root.querySelector("[data-ask-go]");
  const stop = root.querySelector("[data-ask-stop]");
  const status = root.querySelector("[data-ask-status]");
  const box = root.querySelector("[data-answer-box]");
  const meta = root.querySelector("[data-answer-meta]");
  const promptEl = root.querySelector("[data-answer-prompt]");
  const tokensEl = root.querySelector("[data-answer-tokens]");
  const stepsEl = root.querySelector("[data-steps]");
  const presetBox = root.querySelector("[data-presets]");
  const presetList = root.querySelector("[data-preset-list]");
  const presets = JSON.parse(document.getElementById("ask-presets").textContent || "[]");
  const REPLAY_MS = 90;

  let live = null;          // server info when served, null when opened as files
  let running = null;       // {stop: function} while an answer is arriving

  function setStatus(text) { status.textContent = text; }

  function tokens(n) { return n + (n === 1 ? " token" : " tokens"); }

  // A probability as a percentage by the rule of every panel, chart and slide (pct in
  // live_demo/formatting.py): two significant digits; "0%" only for 0 ("<0.0001%" below that);
  // "100%" only for 1 (">99%" just under it).
  function fixed(v, d) {    // as Python formats: a tie rounds to even (toFixed rounds it up)
    const scaled = v * Math.pow(10, d);
    const whole = Math.floor(scaled);
    if (scaled - whole === 0.5 && whole % 2 === 0) return (whole / Math.pow(10, d)).toFixed(d);
    return v.toFixed(d);
  }

  function pct(p) {
    const v = 100 * Number(p);
    if (!isFinite(v) || v <= 0) return "0%";
    if (v >= 100) return "100%";
    if (v < 1e-4) return "<0.0001%";
    const decimals = Math.max(0, 1 - Math.floor(Math.log10(v)));
    let text = fixed(v, decimals);
    if (Number(text) >= 100) return decimals ? ">" + fixed(100 - Math.pow(10, -decimals), decimals) + "%" : ">99%";
    if (Number(text) >= Math.pow(10, 2 - decimals) && decimals > 0) text = fixed(v, decimals - 1);
    return text + "%";
  }

  function setRunning(r) {
    running = r;
    go.disabled = !!r;
    stop.disabled = !r;
    root.classList.toggle("busy", !!r);
  }

  function startAnswer(prompt, description) {
    box.hidden = false;
    meta.textContent = description;
    promptEl.textContent = prompt;
    tokensEl.textContent = "";
    stepsEl.textContent = "";
  }

  function addToken(step, n) {
    // a special token (the model's end-of-turn marker) is listed with the steps, never in the answer text
    if (!step.special) {
      const span = document.createElement("span");
      span.className = "tok-out";
      span.textContent = step.text;
      span.title = step.display + "  " + pct(step.prob);
      tokensEl.appendChild(span);
    }

    const row = document.createElement("tr");
    const cells = [String(n), null, pct(step.prob),
      (step.alternatives || []).map((a) => a.display + " " + pct(a.prob)).join(",  ")];
    cells.forEach((text, i) => {
      const td = document.createElement("td");
      if (i === 1) {
        const code = document.createElement("code");
        code.className = "tok";
        code.textContent = step.display;
        td.appendChild(code);
      } else {
        td.textContent = text;
      }
      row.appendChild(td);
    });
    stepsEl.appendChild(row);
  }

  // why an answer ended, in the words the status line uses
  function ending(stopped, n) {
    if (stopped === "eos") return "; the model ended its answer with its end token.";
    if (stopped === "length") return "; cut at the limit of " + tokens(n) + ".";
    if (stopped === "cancelled") return "; stopped.";
    return ".";
  }

  function findPreset(prompt) {
    const want = prompt.trim().toLowerCase();
    return presets.find((p) => p.prompt.trim().toLowerCase() === want);
  }

  // --- offline: replay a cached trace token by token
  function replay(p) {
    startAnswer(p.prompt, p.model + " \u00b7 " + p.strategy + " \u00b7 cached answer, replayed");
    let i = 0;
    let timer = null;
    const finish = (text) => { clearTimeout(timer); setRunning(null); setStatus(text); };
    setRunning({ stop: () => finish("Stopped after " + tokens(i) + ".") });
    setStatus("Replaying " + p.model + "'s answer\u2026");
    const tick = () => {
      if (i >= p.steps.length) {
        finish("Done: " + tokens(p.steps.length) + ", replayed from the build's trace of " + p.model +
          ending(p.stopped, p.steps.length));
        return;
      }
      addToken(p.steps[i], i + 1);
      i += 1;
      timer = setTimeout(tick, REPLAY_MS);
    };
    tick();
  }

  // --- served: stream from /api/ask
  function parseEvents(buffer, onEvent) {
    const blocks = buffer.split("\n\n");
    const rest = blocks.pop();
    blocks.forEach((block) => {
      let type = "message";
      const data = [];
      block.split("\n").forEach((line) => {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) onEvent(type, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  async function askServer(prompt) {
    const controller = new AbortController();
    let count = 0;
    const started = performance.now();
    let first = null;
    setRunning({ stop: () => controller.abort() });
    setStatus("Sending your question to " + live.model + "\u2026");
    try {
      const response = await fetch("api/ask?prompt=" + encodeURIComponent(prompt), {
        signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (!response.ok) {
        let message = "The server answered " + response.status + ".";
        try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
        setStatus(message);
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), (type, data) => {
          if (type === "start") {
            startAnswer(prompt, data.model + " \u00b7 " + data.strategy + " \u00b7 live" +
              (data.chat ? " \u00b7 in its chat template: " + tokens(data.input_tokens) : ""));
            setStatus(data.model + " is answering\u2026");
          } else if (type === "status") {
            setStatus(data.message);
          } else if (type === "token") {
            if (first === null) first = performance.now() - started;
            count += 1;
            addToken(data, count);
          } else if (type === "done") {
            const secs = ((performance.now() - started) / 1000).toFixed(1);
            setStatus("Done: " + tokens(count) + " in " + secs + " s" +
              (first !== null ? " (first token after " + (first / 1000).toFixed(2) + " s)" : "") +
              ending(data.stopped, count));
          } else if (type === "error") {
            setStatus("The model failed: " + data.message);
          }
        });
      }
    } catch (err) {
      setStatus(err.name === "AbortError" ? "Stopped after " + tokens(count) + "." :
        "Lost the connection to the server (" + err.message + ").");
    } finally {
      setRunning(null);
    }
  }

  function submit(prompt) {
    if (running) return;
    prompt = prompt.trim();
    if (!prompt) { setStatus("Type a question first."); input.focus(); return; }
    if (live) { askServer(prompt); return; }
    const p = findPreset(prompt);
    if (p) { replay(p); return; }
    setStatus("Opened as files, the model is not running, so only the cached questions can be answered: " +
      "pick one below, or run novapress serve and open the address it prints.");
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); submit(input.value); });
  stop.addEventListener("click", () => { if (running) running.stop(); input.focus(); });

  function showPresets() {
    presetList.textContent = "";
    presets.forEach((p) => {
      const li = document.createElement("li");
      const b = document.createElement("button");
      b.type = "button";
      b.className = "preset";
      b.textContent = p.prompt;
      b.addEventListener("click", () => { input.value = p.prompt; submit(p.prompt); });
      li.appendChild(b);
      presetList.appendChild(li);
    });
    presetBox.hidden = presets.length === 0;
  }

  async function detectServer() {
    if (location.protocol !== "http:" && location.protocol !== "https:") return null;
    try {
      const response = await fetch("api/info", { headers: { Accept: "application/json" } });
      if (!response.ok) return null;
      return await response.json();
    } catch (e) {
      return null;
    }
  }

  showPresets();
  detectServer().then((info) => {
    live = info;
    if (info) {
      info.model = info.model || "the model";
      root.classList.add("live");
      root.querySelector("#presets-h").textContent = "Or try one of these:";
      setStatus(info.status === "ready"
        ? "Live: " + info.model + " runs on this machine. Type a question and press Ask."
        : "Live: the model is loading; your first question will wait for it.");
    }
    root.dataset.mode = info ? "live" : "offline";
  });
})();
