// Keyboard review for shashin: focus a group and a photo, select, delete, undo.
(function () {
  "use strict";
  const groups = Array.from(document.querySelectorAll(".shashin-group"));
  const status = document.getElementById("shashin-status");
  const csrf = (document.querySelector("input[name=csrftoken]") || {}).value;
  // Where the actions live, with Datasette's base_url: the template says.
  const actions = (status && status.dataset.actions) || "/-/shashin/";
  let g = 0, m = 0;

  function members(i) { return groups[i] ? Array.from(groups[i].querySelectorAll(".shashin-member")) : []; }

  function focus(i, j) {
    if (!groups.length) return;
    g = Math.max(0, Math.min(i, groups.length - 1));
    m = Math.max(0, Math.min(j, members(g).length - 1));
    document.querySelectorAll(".shashin-focused").forEach(el => el.classList.remove("shashin-focused"));
    groups[g].classList.add("shashin-focused");
    const member = members(g)[m];
    if (member) member.classList.add("shashin-focused");
    groups[g].scrollIntoView({ block: "nearest" });
    sessionStorage.setItem("shashin-focus", JSON.stringify([location.pathname + location.search, g, m]));
  }

  function show(result) {
    if (!status) return;
    status.textContent = (result.messages || []).join("\n");
    status.classList.toggle("shashin-failed", !result.ok);
    if (result.batch && result.ok) {
      const undo = document.createElement("button");
      undo.textContent = "Undo (u)";
      undo.addEventListener("click", () => post("restore", { batch: result.batch }));
      status.appendChild(undo);
    }
  }

  async function post(action, fields) {
    const body = new URLSearchParams({ csrftoken: csrf });
    for (const [key, value] of Object.entries(fields)) {
      for (const item of [].concat(value)) body.append(key, item);
    }
    let result;
    try {
      const response = await fetch(actions + action, {
        method: "POST", body, credentials: "same-origin",
        headers: { "Accept": "application/json", "x-csrftoken": csrf },
      });
      result = response.headers.get("content-type").includes("json")
        ? await response.json() : { ok: false, messages: [response.status + ": " + (await response.text()).slice(0, 200)] };
    } catch (error) {
      result = { ok: false, messages: [String(error)] };
    }
    sessionStorage.setItem("shashin-result", JSON.stringify(result));
    sessionStorage.setItem("shashin-focus", JSON.stringify([location.pathname + location.search, g, 0]));
    location.reload();
  }

  function selected() {
    return members(g).filter(el => el.querySelector("input[name=member]").checked).map(el => el.dataset.member);
  }

  // Plain forms (the empty-trash button) ask first when they say so.
  document.querySelectorAll("form[data-confirm]").forEach(form => form.addEventListener("submit", event => {
    if (!confirm(form.dataset.confirm)) event.preventDefault();
  }));
  // Checkboxes mark their photo.
  document.querySelectorAll("input[name=member]").forEach(box => box.addEventListener("change", () => {
    box.closest(".shashin-member").classList.toggle("shashin-selected", box.checked);
  }));

  document.addEventListener("keydown", event => {
    if (event.ctrlKey || event.metaKey || event.altKey || event.target.matches("input[type=text], input[type=number], textarea, select")) return;
    const here = members(g)[m];
    const group = groups[g] && groups[g].dataset.group;
    switch (event.key) {
      case "j": case "ArrowDown":
        if (g === groups.length - 1) { const next = document.querySelector("a[rel=next]"); if (next) location.href = next.href; }
        else focus(g + 1, 0);
        break;
      case "k": case "ArrowUp":
        if (g === 0) {
          const prev = document.querySelector("a[rel=prev]");
          if (prev) {
            // Arrive on the previous page at its last group.
            const url = new URL(prev.href);
            sessionStorage.setItem("shashin-focus", JSON.stringify([url.pathname + url.search, 1e6, 0]));
            location.href = prev.href;
          }
        }
        else focus(g - 1, 0);
        break;
      case "l": case "ArrowRight": focus(g, m + 1); break;
      case "h": case "ArrowLeft": focus(g, m - 1); break;
      case "x": case " ":
        if (here) { const box = here.querySelector("input[name=member]"); box.checked = !box.checked; box.dispatchEvent(new Event("change")); }
        break;
      case "d": case "Delete":
        if (here) post("remove", { group, member: selected().length ? selected() : [here.dataset.member] });
        break;
      case "Enter":
        if (here) post("remove", { group, keep: here.dataset.member });
        break;
      case "n": if (group) post("not-duplicates", { group }); break;
      case "o": if (here) window.open(here.querySelector("a").href, "_blank", "noopener"); break;
      case "u": post("restore", {}); break;
      default: return;
    }
    event.preventDefault();
  });

  const saved = sessionStorage.getItem("shashin-result");
  if (saved) { sessionStorage.removeItem("shashin-result"); show(JSON.parse(saved)); }
  const focused = JSON.parse(sessionStorage.getItem("shashin-focus") || "null");
  if (focused && focused[0] === location.pathname + location.search) focus(focused[1], focused[2]);
  else focus(0, 0);
})();
