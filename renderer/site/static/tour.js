// The tour: Ask starts an auto walk-through that scrolls from the application layer down to the
// fab and back up, in step with the real model run, and every section shows that run's data.
//
// A run is a stream of events (renderer/site/run.py): "start" (what the server made of the
// question), "forward" (the forward pass: shapes, real values, the first token's top-k), one
// "token" per decoded token, then "done". Served by `novapress serve`, they stream live from
// /api/ask; opened from disk, the cached runs embedded in the page are replayed. Numbers arrive
// formatted; model and user text only ever reaches the page through textContent.
"use strict";

(function tour() {
  const runs = JSON.parse(document.getElementById("tour-runs").textContent || "[]");
  const query = new URLSearchParams(location.search);
  // how long the walk stays on a section (ms); ?dwell= sets it (a quick look, or a slow read)
  const DWELL = Math.max(50, Math.min(60000, Number(query.get("dwell")) || 4200));
  const REPLAY_MS = Math.max(15, Math.min(90, DWELL / 20));
  const reduceMotion = window.matchMedia("(prefers-reduced-motion: reduce)").matches;

  const sections = Array.from(document.querySelectorAll("[data-section]"));
  const statusEl = document.querySelector("[data-status]");
  const whereEl = document.querySelector("[data-where]");
  const tourProgress = document.querySelector("[data-tour-progress]");
  const timerEl = document.querySelector("[data-timer]");
  const runStateEl = document.querySelector("[data-run-state]");
  const walkToggle = document.querySelector("[data-walk-toggle]");
  const ask = document.querySelector("[data-ask]");
  const form = ask.querySelector("[data-ask-form]");
  const input = ask.querySelector("[data-ask-input]");
  const go = ask.querySelector("[data-ask-go]");
  const stopButton = ask.querySelector("[data-ask-stop]");
  const askStatus = ask.querySelector("[data-ask-status]");
  const answerBox = ask.querySelector("[data-answer-box]");
  const processing = ask.querySelector("[data-processing]");
  const processingText = ask.querySelector("[data-processing-text]");

  // ------------------------------------------------------------------ small helpers

  function el(tag, className, text) {
    const node = document.createElement(tag);
    if (className) node.className = className;
    if (text !== undefined && text !== null) node.textContent = text;
    return node;
  }

  function slots(name) { return Array.from(document.querySelectorAll('[data-fill="' + name + '"]')); }

  function put(name, text) { slots(name).forEach((node) => { node.textContent = text; }); }

  function build(name, make) {
    slots(name).forEach((node) => {
      node.textContent = "";
      make(node);
    });
  }

  // whole numbers with thousands separators, as live_demo.formatting.count writes them
  function count(n) { return Number(n).toLocaleString("en-US"); }

  function plural(n, word, many) { return count(n) + " " + (n === 1 ? word : (many || word + "s")); }

  function quoted(text) { return "\u201c" + text + "\u201d"; }

  function shape(list) { return "[" + list.join(", ") + "]"; }

  function chip(token, extra) {
    const li = el("li", "chip" + (token.special ? " special" : "") + (extra ? " " + extra : ""));
    li.appendChild(el("code", "tok", token.display));
    li.appendChild(el("span", "tok-id", "id " + token.id));
    return li;
  }

  function tokCode(token) { return el("code", "tok" + (token.special ? " special" : ""), token.display); }

  function clock(ms) {
    const s = Math.floor(ms / 1000);
    return String(Math.floor(s / 60)).padStart(2, "0") + ":" + String(s % 60).padStart(2, "0");
  }

  function setStatus(text) { statusEl.textContent = text; }

  function setRunState(text) { runStateEl.textContent = "Model: " + text; }

  // ------------------------------------------------------------------ words that stay true

  const ROLE_WORDS = { bos: "beginning of sequence", eos: "end of sequence (ends generation)", pad: "padding",
    unk: "unknown token", chat: "chat-template marker" };

  function ending(done, start) {
    if (!done) return "";
    if (done.stopped === "eos") {
      return "The model ended its answer itself with its end token " + (done.end_token ? done.end_token.display : "") +
        " after " + plural(done.n_tokens, "token") + " (the end token is not part of the text).";
    }
    if (done.stopped === "length") {
      return "Cut at the limit of " + plural(done.max_new_tokens, "new token") + ": the model had not ended its answer.";
    }
    if (done.stopped === "cancelled") return "You stopped it after " + plural(done.n_tokens, "token") + ".";
    return "";
  }

  // what the bytes travel as: a hosted API's TLS records, or here plain HTTP to novapress serve
  function wire(start) {
    if (start.source !== "live") return "TLS_RECORD";
    return location.protocol === "https:" ? "TLS_RECORD" : "HTTP";
  }

  function sourceWords(start) {
    return start.source === "live" ? "live from novapress serve" : "the build's cached run, replayed";
  }

  // ------------------------------------------------------------------ rendering one run

  let run = null;     // the run on the page: {start, forward, tokens, done, strategies, live, t0, firstAt, ...}

  function renderStart(s) {
    const m = s.model;
    put("model-name", m.display);

    // application: the chat template around the question (or none), the request, the packet
    const q0 = s.chat ? s.chat.question_span[0] : 0;
    const q1 = s.chat ? s.chat.question_span[1] : s.tokens.length;
    if (s.chat) {
      put("template-h", "This run: " + m.display + " has a chat template, so the server wrapped your question in it: " +
        plural(s.n_input, "token") + " in all, " + count(s.n_tokens) + " of them your question (highlighted)" +
        (s.chat.system ? ", after a system message the template adds on its own." : "."));
      build("template-chips", (node) => s.chat.tokens.forEach((t, i) =>
        node.appendChild(chip(t, i >= q0 && i < q1 ? "q" : "template"))));
      put("template-system", s.chat.system ? "The template's own system message: " + quoted(s.chat.system) : "");
    } else {
      put("template-h", m.chat_template
        ? "This run: " + m.display + " has a chat template, but this run did not use it: your question went to the model " +
          "as bare text, " + plural(s.n_input, "token") + "."
        : "This run: " + m.display + " has no chat template, so your question went to the model as bare text: " +
          plural(s.n_input, "token") + ", nothing added around it.");
      build("template-chips", (node) => s.tokens.forEach((t) => node.appendChild(chip(t, "q"))));
      put("template-system", "");
    }
    put("request", JSON.stringify(s.request, null, 2));

    // tokenization
    put("tokens-h", quoted(s.prompt) + " as " + m.display + " reads it: " + plural(s.n_tokens, "token"));
    build("tokens-chips", (node) => s.tokens.forEach((t) => node.appendChild(chip(t))));
    put("tokens-template", s.chat
      ? "The chat template adds " + plural(s.n_input - s.n_tokens, "token") + " around them (" +
        plural(s.chat.n_special, "special token") + " among them), so the model reads " + plural(s.n_input, "token") + " in all."
      : "No chat template: the model reads exactly these " + plural(s.n_input, "token") + ".");
    put("tokens-context", "Context window: " + m.context_text + " positions. Your " + plural(s.n_input, "input token") +
      " plus at most " + plural(s.max_new_tokens, "new one") + (s.fits ? " fit, with room to spare." : " do not fit."));
    build("specials", (node) => m.special_tokens.forEach((t) => {
      const li = el("li");
      li.appendChild(tokCode({ display: t.display, special: true }));
      li.appendChild(document.createTextNode(" id " + t.id + ": " + t.roles.map((r) => ROLE_WORDS[r] || r).join(", ")));
      node.appendChild(li);
    }));

    // network
    const ids = (s.chat ? s.chat.tokens : s.tokens).map((t) => t.id);
    const preview = ids.slice(0, 10).join(" ") + (ids.length > 10 ? " \u2026" : "");
    const recorded = s.source === "live" ? "" : " (the recorded run)";
    put("packet", wire(s) + " \u2192 " + plural(s.prompt_bytes, "byte") + " of your question \u2192 server \u2192 " +
      plural(s.n_input, "token") + ": " + preview + recorded);
    put("packet-request", wire(s) + " \u2192 " + plural(s.prompt_bytes, "byte") + " of text" +
      (wire(s) === "HTTP" ? ", not encrypted on loopback" : ", encrypted") + " \u2192 tokenized on arrival: " + preview + recorded);
    const loopback = ["127.0.0.1", "localhost", "[::1]", "::1"].includes(location.hostname);
    put("packet-note", s.source === "live"
      ? (loopback
        ? "Here the server is novapress serve on this very machine: your question went over the loopback interface and " +
          "never left it. A hosted model's request would take the hops above."
        : "Here the server is novapress serve at " + location.host + ": your question went over your own network to it. " +
          "A hosted model's request would take the hops above.")
      : "Opened from disk, no request travels at all: this is the build's recorded run of a cached question. A hosted " +
        "model's request would take the hops above.");

    // data center
    put("dc-request", "One request: a batch of 1 \u00d7 " + count(s.n_input) + " token ids (input_ids " +
      shape([1, s.n_input]) + ") for " + m.display + ".");
    const dev = s.device;
    put("dc-device", dev
      ? (s.source === "live"
        ? "It runs on this machine's " + dev.device + (dev.cpu_cores ? " (" + plural(dev.cpu_cores, "core") + ")" : "") +
          ", one question at a time: no cluster scheduler, no GPU slice."
        : "The build ran it on " + dev.device + (dev.cpu_cores ? " (" + plural(dev.cpu_cores, "core") + ")" : "") + ".")
      : "Where the build ran it is not recorded in this trace.");

    // checkpoint
    put("checkpoint-h", "The checkpoint behind this run: " + m.display +
      (m.source === "fallback" ? " (standing in for " + m.requested + ", which was not available)" : ""));
    build("facts", (node) => {
      const rows = [
        ["parameters", m.n_params_text + " (" + m.params_short + ")"],
        ["in memory", (m.bytes_text || "?") + " as " + m.dtype + (m.bytes_per_number ? " (" + m.bytes_per_number + " bytes per number)" : "")],
        ["config", m.model_type + ": " + plural(m.n_layers, "layer") + ", " + count(m.d_model) + " numbers per token, " +
          plural(m.n_heads, "attention head")],
        ["feed-forward width", m.d_ff_text ? m.d_ff_text + " numbers" : "?"],
        ["tokenizer", m.vocab_text + " tokens in its vocabulary"],
        ["context window", m.context_text + " positions"],
      ];
      if (m.weights_sha256) rows.push(["weights sha256", m.weights_sha256 + "\u2026"]);
      rows.forEach(([k, v]) => {
        const div = el("div");
        div.appendChild(el("dt", null, k));
        div.appendChild(el("dd", null, v));
        node.appendChild(div);
      });
    });

    // training
    put("training", s.chat
      ? m.display + "'s tokenizer ships a chat template, and this run used it: your question went in as the user turn " +
        "of a chat, the way an assistant model is served."
      : (m.chat_template
        ? m.display + "'s tokenizer ships a chat template, but this run did not use it: your question went in as bare " +
          "text for the model to continue."
        : m.display + " has no chat template: your question went in as bare text for the model to continue, the way a " +
          "pretrained base model is used."));

    // GPU rack
    put("device-node", dev ? "This run: " + dev.device + (dev.cpu_cores ? " (" + plural(dev.cpu_cores, "core") + ")" : "")
      : "This run: device not recorded");
    put("device", dev
      ? "This run used one " + dev.device + " device: all " + plural(m.n_layers, "layer") + " of " + m.display + " (" +
        (m.bytes_text || "?") + ") in one memory, so nothing was split across GPUs."
      : "");

    // architecture
    build("arch", (node) => {
      const lines = [];
      if (m.positions === "rotary") lines.push("Positions: rotary (RoPE), applied to the queries and keys inside attention; no position table.");
      else if (m.positions === "learned") lines.push("Positions: a learned table of " + m.context_text + " position vectors added to the token embeddings (absolute positions).");
      else lines.push("Positions: " + m.positions + ".");
      lines.push("Normalization: " + m.norm + (m.norm === "RMSNorm" ? " (no mean centering)." : "."));
      lines.push("Feed-forward: " + m.ffn + (m.activation ? " (" + m.activation + ")" : "") + ", " + count(m.d_model) + " \u2192 " +
        (m.d_ff_text || "?") + " \u2192 " + count(m.d_model) + " numbers per token.");
      if (m.n_kv_heads === null || m.n_kv_heads === undefined) lines.push("Attention: " + plural(m.n_heads, "head") + " per layer.");
      else if (m.n_kv_heads === m.n_heads) lines.push("Attention: " + plural(m.n_heads, "head") + " per layer, each with its own keys and values (multi-head attention).");
      else if (m.n_kv_heads === 1) lines.push("Attention: " + plural(m.n_heads, "query head") + " share one key/value head (multi-query attention).");
      else lines.push("Attention: grouped-query, " + plural(m.n_heads, "query head") + " share " + plural(m.n_kv_heads, "key/value head") +
        (m.n_heads % m.n_kv_heads === 0 ? ", a KV cache " + (m.n_heads / m.n_kv_heads) + " times smaller." : "."));
      lines.push("Output layer: " + (m.tied_embeddings ? "tied to the embedding table (the same numbers, used twice)."
        : "its own matrix, separate from the embedding table."));
      lines.forEach((line) => node.appendChild(el("li", null, line)));
    });

    // calculator, thanks
    renderCalculator();
    put("thanks-question", quoted(s.prompt));
    put("thanks-answer", "");
  }

  function renderForward(f) {
    const s = run.start;
    const m = s.model;
    put("layers-h", "Your question through " + m.display + ": " + plural(m.n_layers, "block") + ", " +
      plural(s.n_input, "token") + " side by side.");
    const sampled = {};
    (f.samples ? f.samples.values : []).forEach((v) => { sampled[v.stage] = v.values; });
    build("layers-rows", (node) => {
      const rows = [];
      let blocks = [];
      const flush = () => {
        if (!blocks.length) return;
        const label = blocks.length === 1 ? blocks[0].stage
          : blocks[0].stage + " \u2026 " + blocks[blocks.length - 1].stage + " (" + plural(blocks.length, "block") + ")";
        rows.push([label, blocks[0].shape, null]);
        blocks = [];
      };
      f.shapes.forEach((entry) => {
        if (entry.stage.startsWith("block ") && !sampled[entry.stage]) {
          if (blocks.length && String(blocks[0].shape) !== String(entry.shape)) flush();
          blocks.push(entry);
          return;
        }
        flush();
        rows.push([entry.stage, entry.shape, sampled[entry.stage] || null]);
      });
      flush();
      rows.forEach(([label, sh, values]) => {
        const tr = el("tr");
        tr.appendChild(el("td", null, label));
        const td = el("td");
        td.appendChild(el("code", "shape-value", shape(sh)));
        tr.appendChild(td);
        const vd = el("td");
        if (values) vd.appendChild(el("code", "values-value", "[" + values.join(", ") + ", \u2026]"));
        tr.appendChild(vd);
        node.appendChild(tr);
      });
    });
    const logits = f.shapes.find((e) => e.stage === "logits");
    const notes = [];
    if (f.samples) {
      notes.push("Real values: the first " + f.samples.count + " of the " + count(f.samples.of) + " numbers in the vector " +
        "of " + quoted(f.samples.token ? f.samples.token.display : "?") + " (input position " + f.samples.position +
        "), after each stage shown.");
    } else {
      notes.push("This trace records no values (made by an older novapress).");
    }
    if (logits && logits.shape[1] === 1 && s.n_input > 1) {
      notes.push("generate computed the logits for the last position only (" + shape(logits.shape) +
        "): that is the position that predicts the next token.");
    }
    put("layers-note", notes.join(" "));
    put("top-h", (s.chat ? "How " + m.display + " expects to begin its answer: the top " + f.top.length + " first tokens"
      : "What " + m.display + " expects after " + quoted(s.prompt) + ": the top " + f.top.length + " next tokens") +
      " (softmax at temperature 1; together " + f.top_total + ")");
    build("top-rows", (node) => f.top.forEach((t) => {
      const tr = el("tr");
      const td = el("td");
      td.appendChild(tokCode(t));
      tr.appendChild(td);
      tr.appendChild(el("td", null, String(t.id)));
      const bar = el("td", "bar-cell");
      bar.appendChild(barSvg(t.prob));
      bar.appendChild(document.createTextNode(" " + t.pct));
      tr.appendChild(bar);
      node.appendChild(tr);
    }));
    renderCalculator();
  }

  // a bar on the one 0-100% scale every chart uses (the width is set through the CSSOM, which the
  // served Content-Security-Policy allows; style attributes in markup it would not)
  function barSvg(prob) {
    const track = el("span", "bar-track");
    track.setAttribute("aria-hidden", "true");
    const fill = el("span", "bar-fill");
    fill.style.width = Math.max(0, Math.min(100, 100 * prob)) + "%";
    if (prob > 0) fill.style.minWidth = "2px";     // a probability too small to see still shows a stub
    track.appendChild(fill);
    return track;
  }

  function renderCalculator() {
    if (!run || !run.start) return;
    const s = run.start;
    const m = s.model;
    const d = run.done;
    put("calc-1", m.kv_per_token_text
      ? " This run: " + m.kv_per_token_text + " per token; " + s.kv_prefill_text + " after reading your " +
        plural(s.n_input, "input token") + (d && d.kv_total_text ? ", " + d.kv_total_text + " with the answer's " +
        plural(d.n_tokens, "token") : "") + "."
      : " This trace does not record the key/value heads, so no figure for this run.");
    put("calc-2", " Each decode step reads all " + (m.bytes_text || "?") + " of weights" +
      (d && d.weights_read_text ? ": " + d.weights_read_text + " for this answer's " + plural(d.n_tokens, "token") : "") + ".");
    put("calc-3", " This run: " + m.dtype + (m.bytes_per_number ? ", " + m.bytes_per_number + " bytes per number" : "") +
      (s.device ? ", on " + s.device.device : "") + ".");
  }

  function startAnswer(s) {
    answerBox.hidden = false;
    put("answer-end", "");
    ask.querySelector("[data-answer-meta]").textContent = s.model.display + " \u00b7 decoded by " + s.strategy + " \u00b7 " +
      sourceWords(s);
    ask.querySelector("[data-answer-prompt]").textContent = s.prompt;
    ask.querySelector("[data-answer-tokens]").textContent = "";
    put("decoding-h", s.model.display + "'s answer to " + quoted(s.prompt) + ", one token at a time");
    put("decoding-label", "Decoded by " + s.strategy + " \u00b7 " + sourceWords(s));
    build("decoding-rows", () => {});
    put("decoding-end", "");
    build("strategies", () => {});
    put("step-generate", "");
    put("step-send", "");
    put("step-render", "");
  }

  function renderToken(t) {
    const s = run.start;
    if (!t.special) {
      const span = el("span", "tok-out", t.text);
      span.title = t.display + "  " + t.pct;
      ask.querySelector("[data-answer-tokens]").appendChild(span);
    }
    build_row(t);
    const n = run.tokens.length;
    setProcessing(10 + Math.round(90 * n / Math.max(1, s.max_new_tokens)));
    const ids = run.tokens.map((x) => x.id);
    put("packet", wire(s) + " \u2190 token " + t.id + " " + t.display + " (" + count(n) + " of at most " +
      count(s.max_new_tokens) + ")");
    put("step-send", wire(s) + " \u2190 " + ids.slice(-12).join(" ") + (ids.length > 12 ? " (the last 12 of " + count(ids.length) + ")" : ""));
  }

  function build_row(t) {
    slots("decoding-rows").forEach((node) => {
      const tr = el("tr");
      tr.appendChild(el("td", null, String(t.index + 1)));
      const td = el("td");
      td.appendChild(tokCode(t));
      tr.appendChild(td);
      tr.appendChild(el("td", null, t.pct));
      tr.appendChild(el("td", "alts", t.alternatives.map((a) => a.display + " " + a.pct).join(",  ")));
      node.appendChild(tr);
    });
  }

  function renderDone(d) {
    const s = run.start;
    setProcessing(100);
    const words = ending(d, s);
    put("answer-end", words);
    put("decoding-end", words);
    const secs = run.live && run.t0 ? ((performance.now() - run.t0) / 1000).toFixed(1) : null;
    put("step-generate", s.model.display + " generated " + plural(d.n_tokens, "token") + " for your question" +
      (secs ? " in " + secs + " s on this machine." : " (the build's recorded run)."));
    put("step-render", quoted(d.text) + " " + words);
    put("thanks-answer", "Answered by " + s.model.display + ", decoded by " + s.strategy + ": " +
      plural(d.n_tokens, "token") + ". " + words);
    build("strategies", (node) => {
      if (run.strategies && run.strategies.length > 1) {
        node.appendChild(el("p", "live-h", "The same question decoded " + run.strategies.length +
          " ways in the build's trace, each labelled by how it was decoded:"));
        const dl = el("dl", "answers");
        run.strategies.forEach((a) => {
          const div = el("div", "answer-row" + (a.name === run.replayed ? " shown" : ""));
          div.appendChild(el("dt", null, a.label + (a.name === run.replayed ? " (the one replayed above)" : "")));
          div.appendChild(el("dd", null, quoted(a.text) + " \u2014 " + plural(a.n_tokens, "token") + ", " +
            (a.stopped === "eos" ? "ended by the model" : "cut at the limit")));
          dl.appendChild(div);
        });
        node.appendChild(dl);
      } else if (s.source === "live") {
        node.appendChild(el("p", "small", "novapress serve decodes one way, " + s.strategy + "; the cached questions " +
          "also show the greedy, top-k and beam-search answers, each labelled."));
      }
    });
    renderCalculator();
  }

  function setProcessing(pct) {
    const v = Math.max(0, Math.min(100, pct));
    processing.value = v;
    processing.textContent = v + "%";
    processingText.textContent = v + "%";
  }

  // apply a whole cached run at once (the page's first view: the book's question)
  function showWhole(r) {
    run = { start: r.start, forward: null, tokens: [], done: null, strategies: r.strategies, replayed: r.replayed,
      live: false, t0: null };
    renderStart(r.start);
    startAnswer(r.start);
    run.forward = r.forward;
    renderForward(r.forward);
    r.tokens.forEach((t) => { run.tokens.push(t); renderToken(t); });
    run.done = r.done;
    renderDone(r.done);
    seen.clear();
    ["start", "forward", "done"].forEach((e) => seen.add(e));
  }

  // ------------------------------------------------------------------ the run's events

  const seen = new Set();   // which events of the current run have arrived

  function onEvent(kind, data) {
    if (kind === "start") {
      run.start = data;
      renderStart(data);
      startAnswer(data);
      setProcessing(5);
      setRunState("read " + plural(data.n_input, "token"));
      if (walk.active && walk.index === 0) say(sections[0]);
    } else if (kind === "forward") {
      run.forward = data;
      renderForward(data);
      setProcessing(10);
      setRunState("forward pass done");
    } else if (kind === "token") {
      if (run.firstAt === null && run.t0) run.firstAt = performance.now() - run.t0;
      run.tokens.push(data);
      renderToken(data);
      setRunState("decoding, " + plural(run.tokens.length, "token"));
    } else if (kind === "done") {
      run.done = data;
      renderDone(data);
      const secs = run.live && run.t0 ? ((performance.now() - run.t0) / 1000).toFixed(1) : null;
      setRunState(data.stopped === "cancelled" ? "stopped" : "done, " + plural(data.n_tokens, "token") +
        (secs ? " in " + secs + " s" : ""));
      if (!walk.active) setStatus("Answer done: " + plural(data.n_tokens, "token") + ". " + ending(data, run.start));
      finishRun();
    } else if (kind === "queued") {       // novapress serve --classroom: waiting for a batch
      setRunState("waiting in line, position " + data.position);
      setStatus("Many questions at once: yours is number " + data.position + " in line for the model.");
    } else if (kind === "error") {
      setRunState("failed");
      setStatus("The model failed: " + data.message);
      pauseWalk("The model failed: " + data.message);
      finishRun();
    }
    seen.add(kind);
    if (walk.active && !walk.paused && sections[walk.index] && waitingOn === kind) {
      waitingOn = null;
      say(sections[walk.index]);
    }
    walkCheck();
  }

  // what the status bar says as the walk reaches a section: that section's part of the run
  function say(section) {
    const s = run && run.start;
    const f = run && run.forward;
    const d = run && run.done;
    const m = s ? s.model : null;
    const n = run ? run.tokens.length : 0;
    const lines = {
      application: () => "You asked " + quoted(s.prompt) + ". The app sends it off.",
      tokenization: () => "Tokenized: " + plural(s.n_tokens, "token") + (s.chat ? ", " + count(s.n_input) + " with the chat template." : "."),
      network: () => (s.source === "live" ? "Your " + plural(s.prompt_bytes, "byte") + " travel to novapress serve at " + location.host + "."
        : "Your " + plural(s.prompt_bytes, "byte") + " would travel encrypted (this is a recorded run)."),
      "data-center": () => "A batch of 1 \u00d7 " + count(s.n_input) + " token ids reaches " + m.display + ".",
      checkpoint: () => m.display + ": " + m.params_short + " parameters, " + (m.bytes_text || "?") + " of weights.",
      training: () => (s.chat ? "Your question runs as a chat turn, the way an assistant is served." : "Your question runs as bare text to continue."),
      "gpu-rack": () => (s.device ? "Running on " + s.device.device + ", one device." : "The device is not recorded."),
      "transformer-layer": () => (f ? "Forward pass: " + plural(m.n_layers, "block") + ", logits " +
        shape(f.shapes[f.shapes.length - 1].shape) + "." : "Waiting for the forward pass\u2026"),
      architecture: () => m.positions + " positions, " + m.norm + ", " + m.ffn + ".",
      "gpu-die": () => "Every decode step reads all " + (m.bytes_text || "?") + " of weights.",
      decoding: () => (d ? "Decoded " + plural(d.n_tokens, "token") + " by " + s.strategy + ". " + ending(d, s)
        : "Decoding: " + plural(n, "token") + " so far\u2026"),
      fab: () => "The bottom of the stack: where the chips are made.",
      euv: () => "EUV light prints the finest layers of the chips.",
      "back-up": () => "The answer races back up: " + plural(d ? d.n_tokens : n, "token") + " on their way to your screen.",
      thanks: () => quoted(s.prompt) + (d ? ": answered. " + ending(d, s) : ": still being answered\u2026"),
    };
    const id = section.dataset.section;
    if (!s) { setStatus("Your question is on its way\u2026"); return; }
    if (lines[id]) setStatus(lines[id]());
  }

  // ------------------------------------------------------------------ the walk-through

  const walk = { active: false, paused: false, index: -1, timer: null, arrived: 0, t0: null, clock: null, done: false };
  let waitingOn = null;     // the event the walk waits for before it says this section's line

  function sectionTitle(i) { return sections[i].querySelector("h2").textContent; }

  function showWhere() {
    const i = walk.index;
    if (i < 0) return;
    whereEl.textContent = "Section " + (i + 1) + " of " + sections.length + ": " + sectionTitle(i);
    const pct = Math.round(100 * (i + 1) / sections.length);
    tourProgress.value = pct;
    tourProgress.textContent = pct + "%";
    sections.forEach((sec, k) => sec.classList.toggle("on-tour", k === i));
  }

  function scrollToSection(i) {
    sections[i].scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth", block: "start" });
  }

  function startWalk() {
    clearTimeout(walk.timer);
    walk.active = true;
    walk.paused = false;
    walk.done = false;
    walk.t0 = performance.now();
    clearInterval(walk.clock);
    walk.clock = setInterval(tick, 250);
    tick();
    walkToggle.disabled = false;
    walkToggle.textContent = "Pause";
    enter(0);
  }

  function tick() { if (walk.t0 !== null) timerEl.textContent = clock(performance.now() - walk.t0); }

  function enter(i) {
    walk.index = i;
    walk.arrived = performance.now();
    showWhere();
    scrollToSection(i);
    onArrive(sections[i]);
    const needs = sections[i].dataset.waits;
    if (needs && !seen.has(needs) && running) {
      waitingOn = needs;
      setStatus(waitingWords(needs));
    } else {
      say(sections[i]);
    }
    schedule();
  }

  // how long this section holds the walk: longer for the slideshow and the steps home
  function dwellFor(section) {
    if (section.querySelector("[data-slides]")) return DWELL * 1.6;
    if (section.querySelector("[data-return-steps]")) return DWELL * 1.6;
    return DWELL;
  }

  function schedule() {
    clearTimeout(walk.timer);
    if (!walk.active || walk.paused) return;
    const section = sections[walk.index];
    const left = dwellFor(section) - (performance.now() - walk.arrived);
    walk.timer = setTimeout(walkCheck, Math.max(0, left));
  }

  // leave the section when it has been shown long enough AND the run has reached what it shows
  function walkCheck() {
    if (!walk.active || walk.paused) return;
    const section = sections[walk.index];
    if (performance.now() - walk.arrived < dwellFor(section) - 5) { schedule(); return; }
    const needs = section.dataset.waits;
    if (needs && !seen.has(needs) && !seen.has("done") && !seen.has("error") && running) {
      waitingOn = needs;
      setStatus(waitingWords(needs));
      return;            // onEvent calls walkCheck again when it arrives
    }
    if (walk.index + 1 >= sections.length) { finishWalk(); return; }
    enter(walk.index + 1);
  }

  function waitingWords(needs) {
    if (needs === "start") return live && live.status !== "ready" ? "Waiting for the model to load on the server\u2026"
      : "Waiting for the server to read your question\u2026";
    if (needs === "forward") return "Waiting for the forward pass\u2026";
    return "Waiting for the model to finish the answer\u2026";
  }

  function finishWalk() {
    walk.active = false;
    walk.done = true;
    clearTimeout(walk.timer);
    clearInterval(walk.clock);
    walkToggle.disabled = true;
    walkToggle.textContent = "Pause";
    setStatus("Tour finished: from the app down to the fab and back up. Scroll freely, or ask another question.");
  }

  function pauseWalk(why) {
    if (!walk.active || walk.paused) return;
    walk.paused = true;
    clearTimeout(walk.timer);
    walkToggle.textContent = "Resume";
    setStatus(why || "Paused. Scroll as you like; Resume continues from the section in view.");
  }

  function resumeWalk() {
    if (!walk.active || !walk.paused) return;
    walk.paused = false;
    walkToggle.textContent = "Pause";
    const i = sectionInView();
    if (i !== walk.index) {
      enter(i);
    } else {
      walk.arrived = performance.now();
      scrollToSection(i);
      schedule();
    }
    setStatus("Resumed at " + sectionTitle(i) + ".");
  }

  function sectionInView() {
    const line = window.innerHeight * 0.35;
    let best = 0;
    sections.forEach((sec, i) => { if (sec.getBoundingClientRect().top <= line) best = i; });
    return best;
  }

  walkToggle.addEventListener("click", () => { if (walk.paused) resumeWalk(); else pauseWalk(); });

  // Scrolling by hand always works: it pauses the walk instead of fighting it.
  const SCROLL_KEYS = new Set(["PageUp", "PageDown", "Home", "End", "ArrowUp", "ArrowDown", " "]);
  const takeOver = () => pauseWalk("Paused: you are scrolling. Resume continues from the section in view.");
  window.addEventListener("wheel", takeOver, { passive: true });
  window.addEventListener("touchmove", takeOver, { passive: true });
  window.addEventListener("keydown", (event) => {
    if (!SCROLL_KEYS.has(event.key)) return;
    const t = event.target;
    if (t.closest && t.closest("input, textarea, select, button, [contenteditable], [role=tab], .scroll-x")) return;
    takeOver();
  });

  // what a section does when the walk reaches it
  function onArrive(section) {
    const slides = section.querySelector("[data-slides]");
    if (slides && slides.autoplay) slides.autoplay(dwellFor(section));
    const steps = section.querySelector("[data-return-steps]");
    if (steps) lightSteps(steps, dwellFor(section));
    if (section.querySelector('[data-live="decoding"]') && !reduceMotion) sweep(section);
    if (section.querySelector("[data-hops]")) section.querySelector("[data-hops]").classList.add("moving");
  }

  function lightSteps(list, time) {
    const items = Array.from(list.querySelectorAll("li"));
    items.forEach((li) => li.classList.remove("lit"));
    items.forEach((li, k) => setTimeout(() => li.classList.add("lit"), (reduceMotion ? 0 : time * 0.8 * k / items.length)));
  }

  // the decoded tokens light up in the order they were chosen
  function sweep(section) {
    const rows = Array.from(section.querySelectorAll('[data-fill="decoding-rows"] tr'));
    rows.forEach((tr, k) => setTimeout(() => {
      rows.forEach((r) => r.classList.remove("now"));
      tr.classList.add("now");
    }, Math.min(120, DWELL / (rows.length + 1)) * k));
  }

  // ------------------------------------------------------------------ asking

  let live = null;          // server info when served, null when opened from disk
  let running = null;       // {stop} while an answer is arriving

  function setRunning(r) {
    running = r;
    go.disabled = !!r;
    stopButton.disabled = !r;
    ask.classList.toggle("busy", !!r);
  }

  function finishRun() { setRunning(null); }

  function newRun(isLive) {
    run = { start: null, forward: null, tokens: [], done: null, strategies: null, replayed: null, live: isLive,
      t0: performance.now(), firstAt: null };
    seen.clear();
    setProcessing(0);
    put("packet", "TLS_RECORD \u00b7 tokens pending\u2026");
    sections.forEach((sec) => sec.classList.remove("on-tour"));
  }

  function findRun(prompt) {
    const want = prompt.trim().toLowerCase();
    return runs.find((r) => r.prompt.trim().toLowerCase() === want);
  }

  // opened from disk: the cached run's events, paced like a stream
  function replay(r) {
    newRun(false);
    run.strategies = r.strategies;
    run.replayed = r.replayed;
    const timers = [];
    const at = (ms, fn) => timers.push(setTimeout(fn, ms));
    let t = REPLAY_MS * 4;
    at(t, () => onEvent("start", r.start));
    t += REPLAY_MS * 4;
    at(t, () => onEvent("forward", r.forward));
    r.tokens.forEach((tok) => { t += REPLAY_MS; at(t, () => onEvent("token", tok)); });
    at(t + REPLAY_MS, () => onEvent("done", r.done));
    setRunning({
      stop: () => {
        timers.forEach(clearTimeout);
        const n = run.tokens.length;
        if (!run.start) onEvent("start", r.start);
        onEvent("done", Object.assign({}, r.done, { stopped: "cancelled", n_tokens: n, n_tokens_text: plural(n, "token"),
          kv_total_text: null, weights_read_text: null }));
      },
    });
    setRunState("replaying the build's run");
    startWalk();
  }

  function parseEvents(buffer, handle) {
    const blocks = buffer.split("\n\n");
    const rest = blocks.pop();
    blocks.forEach((block) => {
      let type = "message";
      const data = [];
      block.split("\n").forEach((line) => {
        if (line.startsWith("event:")) type = line.slice(6).trim();
        else if (line.startsWith("data:")) data.push(line.slice(5).replace(/^ /, ""));
      });
      if (data.length) handle(type, JSON.parse(data.join("\n")));
    });
    return rest;
  }

  async function askServer(prompt) {
    const controller = new AbortController();
    newRun(true);
    let runId = null;
    setRunning({
      stop: async () => {
        stopButton.disabled = true;
        setStatus("Stopping the model\u2026");
        if (runId) {
          try { await fetch("api/stop?run=" + encodeURIComponent(runId), { method: "POST" }); } catch (e) { /* gone */ }
        } else {
          controller.abort();
        }
      },
    });
    setRunState("sending your question");
    startWalk();
    try {
      const response = await fetch("api/ask?prompt=" + encodeURIComponent(prompt), {
        signal: controller.signal, headers: { Accept: "text/event-stream" } });
      if (!response.ok) {
        let message = "The server answered " + response.status + ".";
        try { message = (await response.json()).error || message; } catch (e) { /* not JSON */ }
        setStatus("The server could not answer: " + message);
        pauseWalk("The server could not answer: " + message);
        return;
      }
      const reader = response.body.getReader();
      const decoder = new TextDecoder();
      let buffer = "";
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        buffer = parseEvents(buffer + decoder.decode(value, { stream: true }), (type, data) => {
          if (type === "start") runId = data.run;
          onEvent(type, data);
        });
      }
    } catch (err) {
      if (err.name !== "AbortError") setStatus("Lost the connection to the server (" + err.message + ").");
      else setStatus("Stopped before the server answered.");
    } finally {
      setRunning(null);
    }
  }

  // ------------------------------------------------------------------ "Make my comic page"

  const pageGo = ask.querySelector("[data-page-go]");
  const personal = ask.querySelector("[data-personal]");
  const personalStatus = ask.querySelector("[data-personal-status]");
  const personalFigure = ask.querySelector("[data-personal-figure]");
  let makingPage = false;

  async function makePage(prompt) {
    prompt = prompt.trim();
    personal.hidden = false;
    if (!prompt) { personalStatus.textContent = "Type a question first."; input.focus(); return; }
    if (makingPage) return;
    makingPage = true;
    pageGo.disabled = true;
    personalFigure.hidden = true;
    const t0 = performance.now();
    personalStatus.textContent = "Drawing your comic page for " + quoted(prompt) + "\u2026";
    try {
      const response = await fetch("api/page?prompt=" + encodeURIComponent(prompt), { headers: { Accept: "application/json" } });
      let body = null;
      try { body = await response.json(); } catch (e) { /* not JSON */ }
      if (!response.ok || !body) {
        personalStatus.textContent = "The page could not be made: " + ((body && body.error) || "the server answered " + response.status) + ".";
        return;
      }
      // the picture is made here, not in the page: a served site is the only place it exists
      const open = personal.querySelector("[data-personal-open]");
      let img = open.querySelector("[data-personal-img]");
      if (!img) {
        img = document.createElement("img");
        img.dataset.personalImg = "";
        img.setAttribute("aria-describedby", "personal-transcript");
        open.appendChild(img);
      }
      img.src = body.png;
      img.alt = "Your comic page, " + body.title + ". Its transcript follows.";
      open.href = body.png;
      personal.querySelector("[data-personal-png]").href = body.png;
      personal.querySelector("[data-personal-pdf]").href = body.pdf;
      personal.querySelector("[data-personal-transcript]").textContent = body.transcript;
      personalFigure.hidden = false;
      const secs = ((performance.now() - t0) / 1000).toFixed(1);
      personalStatus.textContent = "Your comic page for " + quoted(body.question) + " is ready (" +
        (body.cached ? "drawn before, " : "") + secs + " s), drawn from " + body.model + "'s real run on it.";
    } catch (err) {
      personalStatus.textContent = "Lost the connection to the server (" + err.message + ").";
    } finally {
      makingPage = false;
      pageGo.disabled = false;
    }
  }

  pageGo.addEventListener("click", () => makePage(input.value));

  function submit(prompt) {
    if (running) return;
    prompt = prompt.trim();
    if (!prompt) { setStatus("Type a question first."); input.focus(); return; }
    if (live) { askServer(prompt); return; }
    const r = findRun(prompt);
    if (r) { replay(r); return; }
    setStatus("Opened from disk, the model is not running, so only the cached questions can be answered: pick one " +
      "below, or run novapress serve and open the address it prints.");
    askStatus.textContent = "Opened from disk: only the cached questions below can be answered. Run novapress serve " +
      "to ask anything.";
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); submit(input.value); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && (event.ctrlKey || event.metaKey)) {
      event.preventDefault();
      submit(input.value);
    }
  });
  stopButton.addEventListener("click", () => { if (running) running.stop(); input.focus(); });
  document.querySelectorAll("[data-ask-again]").forEach((a) => a.addEventListener("click", (event) => {
    event.preventDefault();
    document.getElementById("application").scrollIntoView({ behavior: reduceMotion ? "auto" : "smooth" });
    input.focus({ preventScroll: true });
    input.select();
  }));

  function showPresets() {
    const list = ask.querySelector("[data-preset-list]");
    list.textContent = "";
    runs.forEach((r) => {
      const li = el("li");
      const b = el("button", "preset", r.prompt);
      b.type = "button";
      b.addEventListener("click", () => { input.value = r.prompt; submit(r.prompt); });
      li.appendChild(b);
      list.appendChild(li);
    });
    ask.querySelector("[data-presets]").hidden = runs.length === 0;
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

  async function watchLoading() {
    // the server loads the model in the background: say when it is ready
    while (live && live.status === "loading") {
      await new Promise((resolve) => setTimeout(resolve, 1000));
      const info = await detectServer();
      if (!info) return;
      live = info;
    }
    if (live) {
      askStatus.textContent = live.status === "ready"
        ? "Live: " + live.model + " runs on this machine. Type a question and press Ask."
        : "The model could not be loaded: " + (live.error || "unknown error") + ".";
    }
  }

  // ------------------------------------------------------------------ tabs and the slideshow

  document.querySelectorAll("[data-tabs]").forEach((box) => {
    const list = box.querySelector("[data-tablist]");
    const tabs = Array.from(list.querySelectorAll("[role=tab]"));
    const panels = Array.from(box.querySelectorAll("[data-tabpanel]"));
    list.hidden = false;
    box.classList.add("js");
    function select(i, focus) {
      tabs.forEach((t, k) => {
        t.setAttribute("aria-selected", k === i ? "true" : "false");
        t.tabIndex = k === i ? 0 : -1;
      });
      panels.forEach((p, k) => { p.hidden = k !== i; });
      if (focus) tabs[i].focus();
    }
    tabs.forEach((t, i) => {
      t.addEventListener("click", () => select(i, false));
      t.addEventListener("keydown", (event) => {
        const step = { ArrowRight: 1, ArrowLeft: -1 }[event.key];
        if (step) { event.preventDefault(); select((i + step + tabs.length) % tabs.length, true); }
        if (event.key === "Home") { event.preventDefault(); select(0, true); }
        if (event.key === "End") { event.preventDefault(); select(tabs.length - 1, true); }
      });
    });
    select(0, false);
  });

  document.querySelectorAll("[data-slides]").forEach((box) => {
    const slides = Array.from(box.querySelectorAll("[data-slide]"));
    const arts = Array.from(box.querySelectorAll(".slide-art-inline"));
    const banner = box.querySelector(".setup-art");
    const controls = box.querySelector("[data-slide-controls]");
    const prev = box.querySelector("[data-slide-prev]");
    const next = box.querySelector("[data-slide-next]");
    const position = box.querySelector("[data-slide-position]");
    let current = 0;
    let auto = [];
    controls.hidden = false;
    box.classList.add("js");
    // the slide's picture goes to the wizard's banner; the copies in the slides are for no-JS readers
    const pictures = [banner.querySelector("figure")].concat(arts);
    function show(i) {
      current = Math.max(0, Math.min(slides.length - 1, i));
      slides.forEach((s, k) => { s.hidden = k !== current; });
      pictures.forEach((f, k) => { f.hidden = k !== current; if (k > 0) banner.appendChild(f); });
      prev.disabled = current === 0;
      next.textContent = current === slides.length - 1 ? "Finish" : "Next >";
      position.textContent = "Step " + (current + 1) + " of " + slides.length + ": " +
        slides[current].querySelector("h3").textContent;
    }
    prev.addEventListener("click", () => { auto.forEach(clearTimeout); show(current - 1); });
    next.addEventListener("click", () => {
      auto.forEach(clearTimeout);
      if (current === slides.length - 1) show(0); else show(current + 1);
    });
    box.autoplay = (time) => {
      auto.forEach(clearTimeout);
      show(0);
      auto = slides.slice(1).map((_, k) => setTimeout(() => show(k + 1), time * 0.9 * (k + 1) / slides.length));
    };
    show(0);
  });

  // ------------------------------------------------------------------ start

  showPresets();
  if (runs.length) {
    showWhole(runs[0]);
    setRunState("showing the build's cached run");
    askStatus.textContent = "Every section shows the book's question " + quoted(runs[0].prompt) + " (the build's " +
      "cached run). Opened from disk, Ask replays the cached questions; run novapress serve to ask anything.";
  }
  detectServer().then((info) => {
    live = info;
    ask.dataset.mode = info ? "live" : "offline";
    if (info) {
      info.model = info.model || "the model";
      pageGo.hidden = !info.personal_pages;
      ask.querySelector("#presets-h").textContent = "Or try one of these:";
      askStatus.textContent = info.status === "ready"
        ? "Live: " + info.model + " runs on this machine. Type a question and press Ask."
        : "Live: the model is loading; your first question will wait for it.";
      watchLoading();
    }
  });
})();
