// The review page's script. One selection, shared by mouse, touch and keyboard: a current group and,
// in it, a current photo, outlined and scrolled into view; every action acts on the current group.
// Actions are posted in place: the answer carries the group's new HTML, a sentence and what undoes it.
(function () {
  "use strict";
  const status = document.getElementById("shashin-status");
  // Where the actions live, with Datasette's base_url: the template says.
  const actions = (status && status.dataset.actions) || "/-/shashin/";
  const here = location.pathname + location.search;
  const SIGN_IN = "Not allowed (403): sign in with the link printed by `datasette … --root` " +
    "(or as an actor the allow_delete setting names), then reload this page.";
  let current = null, photo = 0;

  const groups = () => Array.from(document.querySelectorAll(".shashin-group"));
  const members = section => section ? Array.from(section.querySelectorAll(".shashin-member")) : [];
  const isOpen = section => !section.classList.contains("shashin-done");
  const csrf = () => (document.querySelector("input[name=csrftoken]") || {}).value || "";

  // The selection

  function select(section, index, scroll) {
    if (!section) return;
    current = section;
    const list = members(section);
    photo = Math.max(0, Math.min(index, list.length - 1));
    document.querySelectorAll(".shashin-focused").forEach(el => {
      el.classList.remove("shashin-focused");
      el.removeAttribute("aria-current");
    });
    section.classList.add("shashin-focused");
    section.setAttribute("aria-current", "true");
    const member = list[photo];
    if (member) {
      member.classList.add("shashin-focused");
      member.setAttribute("aria-current", "true");
    }
    if (scroll) {
      section.scrollIntoView({ block: "nearest" });
      // The photo too: in a long group it may be outside the row's visible part, or below the window.
      if (member) member.scrollIntoView({ block: "nearest", inline: "nearest" });
    }
    sessionStorage.setItem("shashin-focus", JSON.stringify([here, section.dataset.group, photo]));
  }

  function step(direction) {
    const all = groups();
    for (let i = all.indexOf(current) + direction; i >= 0 && i < all.length; i += direction) {
      if (isOpen(all[i])) return select(all[i], 0, true);
    }
    const link = document.querySelector(direction > 0 ? "a[rel=next]" : "a[rel=prev]");
    if (!link) return;
    // Arrive on the previous page at its last group.
    if (direction < 0) sessionStorage.setItem("shashin-focus", JSON.stringify([new URL(link.href).pathname + new URL(link.href).search, "last", 0]));
    location.href = link.href;
  }

  function ticked(section) {
    return Array.from(section.querySelectorAll("input[name=member]:checked")).map(box => box.value);
  }

  // Anything clicked, touched or focused in a group makes it (and the photo) current.
  function follow(event) {
    const section = event.target.closest && event.target.closest(".shashin-group");
    if (!section) return;
    const member = event.target.closest(".shashin-member");
    const index = member ? members(section).indexOf(member) : section === current ? photo : 0;
    select(section, index, false);
  }
  document.addEventListener("pointerdown", follow, true);
  document.addEventListener("focusin", follow);
  document.addEventListener("change", event => {
    if (!event.target.matches("input[name=member]")) return;
    event.target.closest(".shashin-member").classList.toggle("shashin-selected", event.target.checked);
    follow(event);
  });

  // Feedback: one sentence next to its group (or at the top), details and Undo on demand.

  function feedback(section, result, undo) {
    document.querySelectorAll(".shashin-feedback").forEach(el => el.remove());
    const box = document.createElement("div");
    box.className = "shashin-feedback" + (result.ok ? "" : " shashin-failed");
    box.setAttribute("role", "status");
    const sentence = document.createElement("span");
    sentence.textContent = result.summary || (result.messages || []).join(" ");
    box.appendChild(sentence);
    if (undo) {
      const button = document.createElement("button");
      button.type = "button";
      button.className = "shashin-undo";
      button.textContent = "Undo (u)";
      button.addEventListener("click", () => runUndo(undo));
      box.appendChild(button);
    }
    const lines = (result.messages || []).filter(line => line !== result.summary);
    if (lines.length) {
      const details = document.createElement("details");
      const summary = document.createElement("summary");
      summary.textContent = lines.length === 1 ? "Details" : "Details (" + lines.length + " files)";
      const list = document.createElement("ul");
      for (const line of lines) {
        const item = document.createElement("li");
        item.textContent = line;
        list.appendChild(item);
      }
      details.append(summary, list);
      box.appendChild(details);
    }
    const head = section && section.isConnected && section.querySelector(".shashin-group-head");
    if (head) head.after(box);
    else if (status) status.replaceChildren(box);
    box.scrollIntoView({ block: "nearest" });
  }

  // Undo: this tab's actions, newest last.

  const undoStack = () => JSON.parse(sessionStorage.getItem("shashin-undo") || "[]");
  const saveUndo = stack => sessionStorage.setItem("shashin-undo", JSON.stringify(stack));

  async function runUndo(entry) {
    saveUndo(undoStack().filter(other => JSON.stringify(other) !== JSON.stringify(entry)));
    const section = document.getElementById("group-" + entry.group);
    await post("undo", section, entry.fields, false);
  }

  // Posting an action

  async function post(action, section, fields, undoable) {
    const body = new URLSearchParams({ csrftoken: csrf(), back: here });
    if (section && action !== "undo") body.append("group", section.dataset.group);
    for (const shown of groups()) body.append("shown", shown.dataset.group);
    for (const [key, value] of Object.entries(fields)) {
      for (const item of [].concat(value)) body.append(key, item);
    }
    const result = await answer(action, body);
    for (const [id, html] of Object.entries(result.html || {})) replaceGroup(id, html);
    const group = section && document.getElementById(section.id);
    let undo = null;
    if (undoable && result.undo) {
      undo = { group: section && section.dataset.group, fields: result.undo };
      saveUndo(undoStack().concat([undo]));
    }
    feedback(group, result, undo);
  }

  async function answer(action, body) {
    try {
      const response = await fetch(actions + action, {
        method: "POST", body, credentials: "same-origin",
        headers: { "Accept": "application/json", "x-csrftoken": csrf() },
      });
      if (response.status === 403) return { ok: false, summary: SIGN_IN };
      if ((response.headers.get("content-type") || "").includes("json")) return await response.json();
      return { ok: false, summary: "The server answered " + response.status + ": " + plain(await response.text()) };
    } catch (error) {
      return { ok: false, summary: "The server did not answer (is datasette still running?): " + error.message };
    }
  }

  // An error page's words, never its HTML.
  function plain(text) {
    const words = new DOMParser().parseFromString(text, "text/html").body.textContent.replace(/\s+/g, " ").trim();
    return words.length > 200 ? words.slice(0, 200) + "…" : words;
  }

  function replaceGroup(id, html) {
    const old = document.getElementById("group-" + id);
    if (!old) return;
    const template = document.createElement("template");
    template.innerHTML = html.trim();
    const fresh = template.content.firstElementChild;
    // The group keeps the number the page gave it.
    fresh.querySelector(".shashin-position").textContent = old.querySelector(".shashin-position").textContent;
    old.replaceWith(fresh);
    if (current === old) select(fresh, photo, false);
    if (isOpen(old) !== isOpen(fresh)) recount(isOpen(fresh) ? 1 : -1);
  }

  // The count of groups to review follows the groups decided (or undone) in place.
  function recount(change) {
    const total = document.querySelector(".shashin-total");
    if (!total) return;
    const count = Number(total.dataset.total) + change;
    total.dataset.total = count;
    total.textContent = count.toLocaleString("en") + (count === 1 ? " group" : " groups") + " to review";
  }

  // The actions, from a key or a button

  function remove(section) {
    const chosen = ticked(section);
    if (!chosen.length) {
      feedback(section, { ok: false, summary: "Nothing ticked, so nothing removed: tick the copies to remove " +
        "(their box, or x), then Delete selected (d). To keep one copy and remove the others: its Keep button (Enter)." });
      return;
    }
    post("remove", section, { member: chosen }, true);
  }

  // A group's buttons post in place; without this script they are plain forms.
  document.addEventListener("submit", event => {
    const section = event.target.closest(".shashin-group");
    if (!section) return;
    event.preventDefault();
    const button = event.submitter;
    if (button && button.classList.contains("shashin-notdup")) post("not-duplicates", section, {}, true);
    else if (button && button.name === "keep") post("remove", section, { keep: button.value }, true);
    else remove(section);
  });
  // Plain forms (the empty-trash button) ask first when they say so.
  document.querySelectorAll("form[data-confirm]").forEach(form => form.addEventListener("submit", event => {
    if (!confirm(form.dataset.confirm)) event.preventDefault();
  }));

  document.addEventListener("keydown", event => {
    if (event.ctrlKey || event.metaKey || event.altKey) return;
    const target = event.target;
    if (target.matches("input[type=text], input[type=number], input[type=search], textarea, select")) return;
    // A focused button, link, box or disclosure owns Enter and space.
    if ((event.key === "Enter" || event.key === " ") && target.closest("button, a, input, summary, label")) return;
    const section = current && current.isConnected ? current : null;
    const open = section && isOpen(section) ? section : null;
    const member = members(open)[photo];
    switch (event.key) {
      case "j": case "ArrowDown": step(1); break;
      case "k": case "ArrowUp": step(-1); break;
      case "l": case "ArrowRight": select(section, photo + 1, true); break;
      case "h": case "ArrowLeft": select(section, photo - 1, true); break;
      case "x": case " ":
        if (member) {
          const box = member.querySelector("input[name=member]");
          if (box && !box.disabled) {
            box.checked = !box.checked;
            box.dispatchEvent(new Event("change", { bubbles: true }));
          }
        }
        break;
      case "d": case "Delete":
        if (open) remove(open);
        else if (section) feedback(section, { ok: false, summary: "This group is decided: j goes to the next one, u undoes." });
        break;
      case "Enter": if (member) post("remove", open, { keep: member.dataset.member }, true); break;
      case "n": if (open) post("not-duplicates", open, {}, true); break;
      case "c": if (section) location.href = section.querySelector(".shashin-compare").href; break;
      case "o": if (member) window.open(member.querySelector(".shashin-thumb a").href, "_blank", "noopener"); break;
      case "u": {
        const stack = undoStack();
        if (stack.length) runUndo(stack[stack.length - 1]);
        else feedback(null, { ok: false, summary: "Nothing to undo in this page session. Earlier removals are in the trash, to restore from there." });
        break;
      }
      default: return;
    }
    event.preventDefault();
  });

  const saved = JSON.parse(sessionStorage.getItem("shashin-focus") || "null");
  const all = groups(), openGroups = all.filter(isOpen);
  let arrival = openGroups[0] || all[0], index = 0;
  if (saved && saved[0] === here) {
    arrival = saved[1] === "last" ? openGroups[openGroups.length - 1] || arrival : document.getElementById("group-" + saved[1]) || arrival;
    index = saved[2];
  }
  if (arrival) select(arrival, index, saved && saved[0] === here);
})();
