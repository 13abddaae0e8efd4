// The compare view: one zoom and one centre shared by every pane, flicker and difference of a pair.
// The centre is a point of the first copy's content (fractions of its width and height); each pane
// shows the same point of its own copy, through the turn between the two (a rotated copy pans with
// the others).
(function () {
  "use strict";
  const root = document.querySelector(".shashin-comparison");
  if (!root) return;
  const turns = JSON.parse(root.dataset.turns);
  const panesBox = root.querySelector(".shashin-panes");
  const panes = Array.from(root.querySelectorAll(".shashin-pane:not(.shashin-difference)"));
  const differencePane = root.querySelector(".shashin-difference");
  const canvas = differencePane.querySelector("canvas");
  const pairText = root.querySelector(".shashin-pair");
  const alignBox = root.querySelector("[data-do=align]");
  const FLICKER_MS = 700;
  const LARGEST_CANVAS_EDGE = 4096;
  const ZOOM_STEP = 1.5;
  // More copies than this side by side would each be too narrow to see: then the pair alone is shown.
  const MOST_SIDE_BY_SIDE = 4;

  const state = { zoom: 1, cx: 0.5, cy: 0.5, a: 0, b: 1, mode: "side", shown: 0, flickerTimer: null };

  // Orientations (as shashin.similarity.orient): 0-3 turned k quarters counter-clockwise, 4-7 mirrored first.
  function turnPoint(x, y, orientation) {
    if (orientation >= 4) x = 1 - x;
    for (let k = 0; k < orientation % 4; k++) [x, y] = [y, 1 - x];
    return [x, y];
  }
  function inverse(orientation) {
    return orientation < 4 ? (4 - orientation) % 4 : orientation;
  }
  function size(pane) {
    const img = pane.querySelector("img, canvas");
    const width = Number(pane.dataset.width) || img.naturalWidth || img.width || 1;
    const height = Number(pane.dataset.height) || img.naturalHeight || img.height || 1;
    return [width, height];
  }
  // The difference pane shows copy a's geometry.
  function copyOf(pane) {
    return pane === differencePane ? state.a : Number(pane.dataset.index);
  }
  function sizeOf(pane) {
    return size(pane === differencePane ? panes[state.a] : pane);
  }
  function geometry(pane) {
    const view = pane.querySelector(".shashin-stage");
    const [width, height] = sizeOf(pane);
    const vw = view.clientWidth, vh = view.clientHeight;
    const fit = Math.min(vw / width, vh / height);
    const scale = fit * state.zoom;
    const [cx, cy] = turnPoint(state.cx, state.cy, turns[0][copyOf(pane)]);
    return { view, width, height, vw, vh, fit, scale, tx: vw / 2 - cx * width * scale, ty: vh / 2 - cy * height * scale };
  }

  function render() {
    for (const pane of panes.concat([differencePane])) {
      if (pane.hidden || pane.offsetParent === null) continue;
      const g = geometry(pane);
      const shown = pane.querySelector("img, canvas");
      shown.style.width = g.width + "px";
      shown.style.height = g.height + "px";
      shown.style.transform = "translate(" + g.tx + "px, " + g.ty + "px) scale(" + g.scale + ")";
      // Past 1:1, photo pixels show as squares rather than blur.
      shown.classList.toggle("shashin-pixels", g.scale * devicePixelRatio > 2);
      if (pane.dataset.converted) sharpen(pane, g);
    }
  }

  // A converted copy is made at the screen's size; zoomed past it, a larger one is asked for.
  function sharpen(pane, g) {
    const needed = Math.max(g.width, g.height) * Math.min(g.scale, 1 / devicePixelRatio) * devicePixelRatio;
    const wanted = Math.min(Math.ceil(needed / 512) * 512, LARGEST_CANVAS_EDGE);
    if (wanted > Number(pane.dataset.edge) && Number(pane.dataset.edge) < Math.max(g.width, g.height)) {
      pane.dataset.edge = wanted;
      const photo = new URL(pane.dataset.converted, location.href);
      photo.searchParams.set("edge", wanted);
      pane.querySelector("img").src = photo.href;
    }
  }

  // The pane showing copy a: its own, or the difference drawn at its size.
  function primary() {
    return state.mode === "difference" ? differencePane : panes[state.a];
  }
  function limits() {
    const g = geometry(primary());
    return [1, Math.max(2, 32 / (g.fit || 1))];
  }
  function setZoom(zoom) {
    const [least, most] = limits();
    state.zoom = Math.min(most, Math.max(least, zoom));
    if (state.zoom === 1) [state.cx, state.cy] = [0.5, 0.5];
  }
  function clampCentre() {
    state.cx = Math.min(1, Math.max(0, state.cx));
    state.cy = Math.min(1, Math.max(0, state.cy));
  }
  // Zoom by factor keeping the point under (px, py) of a pane's view where it is.
  function zoomAround(pane, factor, px, py) {
    const before = geometry(pane);
    if (px === undefined) [px, py] = [before.vw / 2, before.vh / 2];
    const u = (px - before.tx) / (before.width * before.scale);
    const v = (py - before.ty) / (before.height * before.scale);
    setZoom(state.zoom * factor);
    const scale = before.fit * state.zoom;
    moveCentre(pane, u - (px - before.vw / 2) / (before.width * scale), v - (py - before.vh / 2) / (before.height * scale));
  }
  // Put this point of a pane's copy (fractions) at the centre of every pane.
  function moveCentre(pane, x, y) {
    if (state.zoom === 1) return render();
    [state.cx, state.cy] = turnPoint(x, y, inverse(turns[0][copyOf(pane)]));
    clampCentre();
    render();
  }
  function panBy(pane, dx, dy) {
    const g = geometry(pane);
    const [cx, cy] = turnPoint(state.cx, state.cy, turns[0][copyOf(pane)]);
    moveCentre(pane, cx - dx / (g.width * g.scale), cy - dy / (g.height * g.scale));
  }
  function actualPixels() {
    const g = geometry(primary());
    setZoom(1 / (devicePixelRatio * g.fit));
    render();
  }

  // Modes: side by side, flicker (the pair one at a time in one place), difference of the pair.
  function setMode(mode) {
    state.mode = state.mode === mode && mode !== "side" ? "side" : mode;
    clearInterval(state.flickerTimer);
    state.flickerTimer = null;
    if (state.mode === "flicker") {
      state.shown = state.a;
      state.flickerTimer = setInterval(() => flick(), FLICKER_MS);
    }
    for (const button of root.querySelectorAll("[data-do=side], [data-do=flicker], [data-do=difference]")) {
      button.setAttribute("aria-pressed", String(button.dataset.do === state.mode));
    }
    show();
  }
  function flick(manual) {
    if (manual && state.flickerTimer) {
      clearInterval(state.flickerTimer);
      state.flickerTimer = null;
    }
    state.shown = state.shown === state.a ? state.b : state.a;
    show();
  }
  function show() {
    panesBox.classList.remove("shashin-side", "shashin-flicker", "shashin-differencing");
    panesBox.classList.add({ side: "shashin-side", flicker: "shashin-flicker", difference: "shashin-differencing" }[state.mode]);
    for (const pane of panes) {
      const index = Number(pane.dataset.index);
      // Copies not shown (on a phone, or past four) load once chosen; the pair always, for its difference.
      if (index === state.a || index === state.b) pane.querySelector("img").loading = "eager";
      pane.classList.toggle("shashin-a", index === state.a);
      pane.classList.toggle("shashin-b", index === state.b);
      pane.classList.toggle("shashin-shown", state.mode === "flicker" && index === state.shown);
    }
    differencePane.hidden = state.mode !== "difference";
    const names = [state.a, state.b].map((index) => panes[index].querySelector(".shashin-copy-name").textContent);
    const turn = turns[state.b][state.a];
    const sentences = ["Comparing " + names[0] + " with " + names[1] +
      (panes.length > 2 ? ", copy " + (state.b + 1) + " of " + panes.length + " ([ and ] for the others)" : "") + "."];
    if (turn) sentences.push(names[1] + " is " + turnWords(turn) + " relative to " + names[0] + ".");
    if (state.mode === "flicker") sentences.push("Showing " + names[state.shown === state.a ? 0 : 1] + ".");
    pairText.textContent = sentences.join(" ");
    if (state.mode === "difference") drawDifference();
    render();
  }
  function turnWords(turn) {
    // turn makes b's content into a's (counter-clockwise): b is a turned clockwise, then mirrored.
    const rotated = ["", "turned 90° clockwise", "turned 180°", "turned 90° counter-clockwise"][turn % 4];
    return turn >= 4 ? (rotated ? rotated + ", then mirrored" : "mirrored") : rotated;
  }

  // The pair's difference at copy a's size: b turned by the orientation between them (when aligned),
  // scaled to a, composited with "difference" (black where they agree).
  async function drawDifference() {
    const [imgA, imgB] = [panes[state.a], panes[state.b]].map((pane) => pane.querySelector("img"));
    await Promise.all([imgA, imgB].map((img) => img.decode().catch(() => null)));
    if (!imgA.naturalWidth || !imgB.naturalWidth) {
      pairText.textContent += " There is no difference to draw: a copy of the pair cannot be shown.";
      return;
    }
    const started = performance.now();
    const [width, height] = size(panes[state.a]);
    const reduce = Math.min(1, LARGEST_CANVAS_EDGE / Math.max(width, height));
    canvas.width = Math.round(width * reduce);
    canvas.height = Math.round(height * reduce);
    const context = canvas.getContext("2d");
    context.globalCompositeOperation = "source-over";
    context.drawImage(imgA, 0, 0, canvas.width, canvas.height);
    context.globalCompositeOperation = "difference";
    const turn = alignBox.checked ? turns[state.b][state.a] : 0;
    context.save();
    context.translate(canvas.width / 2, canvas.height / 2);
    // Canvas transforms apply last first: b is mirrored, then turned counter-clockwise.
    context.rotate((-(turn % 4) * Math.PI) / 2);
    if (turn >= 4) context.scale(-1, 1);
    const [drawnWidth, drawnHeight] = turn % 2 ? [canvas.height, canvas.width] : [canvas.width, canvas.height];
    context.drawImage(imgB, -drawnWidth / 2, -drawnHeight / 2, drawnWidth, drawnHeight);
    context.restore();
    canvas.dataset.pair = state.a + "," + state.b + "," + turn;
    canvas.dataset.milliseconds = (performance.now() - started).toFixed(1);
    render();
  }

  function choose(step) {
    const others = panes.map((_, index) => index).filter((index) => index !== state.a);
    state.b = others[(others.indexOf(state.b) + step + others.length) % others.length];
    state.shown = state.a;
    show();
  }
  function swap() {
    [state.a, state.b] = [state.b, state.a];
    state.shown = state.a;
    show();
  }

  const actions = {
    "zoom-in": () => { zoomAround(primary(), ZOOM_STEP); },
    "zoom-out": () => { zoomAround(primary(), 1 / ZOOM_STEP); },
    fit: () => { setZoom(1); render(); },
    actual: actualPixels,
    side: () => setMode("side"),
    flicker: () => setMode("flicker"),
    difference: () => setMode("difference"),
    align: () => { if (state.mode === "difference") drawDifference(); },
    previous: () => choose(-1),
    next: () => choose(1),
    swap: swap,
  };
  root.addEventListener("click", (event) => {
    const control = event.target.closest("button[data-do]");
    if (!control) return;
    actions[control.dataset.do]();
    // After a click (not a key press), the keys stay the page's.
    if (event.detail) control.blur();
  });
  alignBox.addEventListener("change", () => { actions.align(); if (!alignBox.matches(":focus-visible")) alignBox.blur(); });

  const keys = {
    "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "0": "fit", "1": "actual", s: "side", f: "flicker",
    x: "difference", "[": "previous", "]": "next",
  };
  document.addEventListener("keydown", (event) => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const inControl = event.target.closest && event.target.closest("button, input, select, textarea, a, summary");
    if (inControl && (event.key === "Enter" || event.key === " " || event.key === "Tab")) return;
    if (event.key === "Escape" || event.key === "b") {
      window.location.href = root.dataset.back;
    } else if (event.key === "Tab") {
      swap();
    } else if (event.key === " " && state.mode === "flicker") {
      flick(true);
    } else if (event.key === "a") {
      alignBox.checked = !alignBox.checked;
      actions.align();
    } else if (event.key.startsWith("Arrow") && state.zoom > 1) {
      const step = 80;
      const [dx, dy] = { ArrowLeft: [step, 0], ArrowRight: [-step, 0], ArrowUp: [0, step], ArrowDown: [0, -step] }[event.key];
      panBy(primary(), dx, dy);
    } else if (keys[event.key]) {
      actions[keys[event.key]]();
    } else {
      return;
    }
    event.preventDefault();
  });

  // Wheel, drag and pinch on any pane move every pane.
  for (const pane of panes.concat([differencePane])) {
    const view = pane.querySelector(".shashin-stage");
    const pointers = new Map();
    view.addEventListener("wheel", (event) => {
      event.preventDefault();
      const box = view.getBoundingClientRect();
      zoomAround(pane, Math.exp(-event.deltaY * 0.002), event.clientX - box.left, event.clientY - box.top);
    }, { passive: false });
    view.addEventListener("pointerdown", (event) => {
      view.setPointerCapture(event.pointerId);
      pointers.set(event.pointerId, [event.clientX, event.clientY]);
    });
    view.addEventListener("pointermove", (event) => {
      if (!pointers.has(event.pointerId)) return;
      const before = Array.from(pointers.values());
      pointers.set(event.pointerId, [event.clientX, event.clientY]);
      const after = Array.from(pointers.values());
      if (after.length === 1) {
        panBy(pane, after[0][0] - before[0][0], after[0][1] - before[0][1]);
      } else if (after.length === 2) {
        const box = view.getBoundingClientRect();
        const middle = (points) => [(points[0][0] + points[1][0]) / 2 - box.left, (points[0][1] + points[1][1]) / 2 - box.top];
        const spread = (points) => Math.hypot(points[0][0] - points[1][0], points[0][1] - points[1][1]) || 1;
        const [mx, my] = middle(before), [nx, ny] = middle(after);
        panBy(pane, nx - mx, ny - my);
        zoomAround(pane, spread(after) / spread(before), nx, ny);
      }
    });
    const release = (event) => pointers.delete(event.pointerId);
    view.addEventListener("pointerup", release);
    view.addEventListener("pointercancel", release);
  }

  panesBox.classList.toggle("shashin-many", panes.length > MOST_SIDE_BY_SIDE);
  for (const img of root.querySelectorAll(".shashin-pane img")) {
    const unshown = () => { img.closest(".shashin-pane").querySelector(".shashin-unshown").hidden = false; };
    img.addEventListener("load", render);
    img.addEventListener("error", unshown);
    // It may have failed before this script ran.
    if (img.complete && !img.naturalWidth) unshown();
  }
  window.addEventListener("resize", render);
  show();
})();
