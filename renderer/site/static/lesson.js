// The lesson page: the stage stepper and the two quiz questions.
// Without JavaScript every stage is simply shown one after the other.
"use strict";

(function stepper() {
  const root = document.querySelector("[data-stepper]");
  if (!root) return;
  const buttons = Array.from(root.querySelectorAll(".stage-button"));
  const panels = Array.from(root.querySelectorAll(".stage"));
  const nodes = Array.from(document.querySelectorAll(".loop .node"));
  const prev = root.querySelector("[data-prev]");
  const next = root.querySelector("[data-next]");
  const position = root.querySelector("[data-position]");
  let current = 0;

  root.classList.add("js");
  root.querySelector("[data-controls]").hidden = false;   // without JavaScript every stage shows, no buttons

  // Every stage sits in the same grid cell, so the box is as tall as the tallest stage and the
  // controls below never move; the stages not shown are invisible (and out of the tab order).
  function show(index, focusPanel) {
    current = Math.max(0, Math.min(panels.length - 1, index));
    const id = panels[current].dataset.stage;
    panels.forEach((p, i) => {
      p.classList.toggle("inactive", i !== current);
      p.inert = i !== current;
    });
    buttons.forEach((b, i) => {
      if (i === current) b.setAttribute("aria-current", "step");
      else b.removeAttribute("aria-current");
    });
    nodes.forEach((n) => n.classList.toggle("current", n.dataset.stage === id));
    prev.disabled = current === 0;
    next.disabled = current === panels.length - 1;
    const title = panels[current].querySelector("h3").textContent.replace(/^\s*\d+\s*/, "");
    position.textContent = "Stage " + (current + 1) + " of " + panels.length + ": " + title;
    if (focusPanel) panels[current].focus();
  }

  buttons.forEach((b, i) => b.addEventListener("click", () => show(i, false)));
  nodes.forEach((n) => n.addEventListener("click", () => {
    show(panels.findIndex((p) => p.dataset.stage === n.dataset.stage), false);
  }));
  prev.addEventListener("click", () => show(current - 1, false));
  next.addEventListener("click", () => show(current + 1, false));

  // Arrow keys step through the stages, except where arrows already mean something
  // (text fields, radio groups, selects, and a focused box that scrolls: there they scroll it).
  document.addEventListener("keydown", (event) => {
    if (event.altKey || event.ctrlKey || event.metaKey || event.shiftKey) return;
    const target = event.target;
    if (target.closest && target.closest("input, select, textarea, [contenteditable], .quiz, [data-scroller], .scroll-x, .code-scroll")) return;
    if (event.key === "ArrowRight" || event.key === "ArrowLeft") {
      event.preventDefault();
      const before = current;
      show(current + (event.key === "ArrowRight" ? 1 : -1), false);
      if (root.contains(target) && target.classList.contains("stage-button") && current !== before) {
        buttons[current].focus();   // keep the focus on the stage list when moving from it
      }
    }
  });

  // A sideways swipe on the stage moves to the next or previous one (touch screens).
  const area = root.querySelector(".stage-panels");
  let swipe = null;
  area.addEventListener("pointerdown", (event) => {
    if (event.pointerType === "mouse") return;
    swipe = { x: event.clientX, y: event.clientY };
  });
  area.addEventListener("pointerup", (event) => {
    if (!swipe) return;
    const dx = event.clientX - swipe.x;
    const dy = event.clientY - swipe.y;
    swipe = null;
    if (Math.abs(dx) > 50 && Math.abs(dx) > 1.5 * Math.abs(dy)) show(current + (dx < 0 ? 1 : -1), false);
  });
  area.addEventListener("pointercancel", () => { swipe = null; });

  show(0, false);
})();

(function scrollHints() {
  // A box wider than the screen says so (and how to scroll it) instead of being silently cut off.
  document.querySelectorAll("[data-scroller]").forEach((box) => {
    const hint = document.getElementById(box.getAttribute("aria-describedby"));
    if (!hint) return;
    const update = () => { hint.hidden = box.scrollWidth <= box.clientWidth + 1; };
    update();
    window.addEventListener("resize", update);
  });
})();

(function orderQuestion() {
  const root = document.getElementById("q-order");
  if (!root) return;
  const list = root.querySelector(".order-list");
  const feedback = root.querySelector("[data-order-feedback]");
  const answer = root.dataset.answer.split("|");

  function items() { return Array.from(list.children); }

  function clearMarks() {
    items().forEach((li) => {
      li.classList.remove("right", "wrong");
      li.querySelector(".mark").textContent = "";
    });
    feedback.textContent = "";
    feedback.className = "feedback";
  }

  function refreshButtons() {
    const all = items();
    all.forEach((li, i) => {
      li.querySelector('[data-move="-1"]').disabled = i === 0;
      li.querySelector('[data-move="1"]').disabled = i === all.length - 1;
    });
  }

  list.addEventListener("click", (event) => {
    const button = event.target.closest("[data-move]");
    if (!button) return;
    const li = button.closest("li");
    const step = Number(button.dataset.move);
    const all = items();
    const index = all.indexOf(li);
    const to = index + step;
    if (to < 0 || to >= all.length) return;
    if (step < 0) list.insertBefore(li, all[to]);
    else list.insertBefore(all[to], li);
    clearMarks();
    refreshButtons();
    // keep the keyboard focus on the moved item (or its other button at the ends)
    const same = li.querySelector('[data-move="' + step + '"]');
    (same.disabled ? li.querySelector('[data-move="' + -step + '"]') : same).focus();
    feedback.textContent = li.dataset.item + " is now in place " + (to + 1) + " of " + all.length + ".";
  });

  root.querySelector("[data-check-order]").addEventListener("click", () => {
    const order = items().map((li) => li.dataset.item);
    let right = 0;
    items().forEach((li, i) => {
      const ok = order[i] === answer[i];
      right += ok ? 1 : 0;
      li.classList.toggle("right", ok);
      li.classList.toggle("wrong", !ok);
      li.querySelector(".mark").textContent = ok ? "\u2713" : "\u2717";
    });
    if (right === answer.length) {
      feedback.className = "feedback right";
      feedback.textContent = "Right! Tokenization turns the text into ids, the embedding turns ids into vectors, " +
        "the transformer layers mix and transform them, and the output projection produces the logits.";
    } else {
      const wrong = order.findIndex((item, i) => item !== answer[i]);
      feedback.className = "feedback wrong";
      feedback.textContent = "Not yet: " + right + " of " + answer.length + " stages are in the right place. " +
        "Hint: place " + (wrong + 1) + " should be " + answer[wrong] + ". Ask what each stage needs as its input.";
    }
  });

  refreshButtons();
})();

(function choiceQuestion() {
  const form = document.getElementById("q-choice");
  if (!form) return;
  const feedback = form.querySelector("[data-choice-feedback]");
  form.addEventListener("change", () => { feedback.textContent = ""; feedback.className = "feedback"; });
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    const picked = form.querySelector('input[name="stage"]:checked');
    if (!picked) {
      feedback.className = "feedback wrong";
      feedback.textContent = "Pick one of the answers first.";
      return;
    }
    const ok = picked.value === form.dataset.answer;
    feedback.className = "feedback " + (ok ? "right" : "wrong");
    feedback.textContent = picked.dataset.feedback;
  });
})();
