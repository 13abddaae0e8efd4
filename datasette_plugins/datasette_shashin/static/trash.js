// The trash page: times in this browser's time zone, ticking a whole removal, the restore button
// saying how many files it restores, and restoring in place (the page keeps its scroll and says what
// happened in one sentence at the bottom bar). Without this script the page still works: its times
// say UTC, the button restores whatever is ticked and the page comes back with Datasette's message.
(() => {
  const shown = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  const boxes = scope => Array.from(scope.querySelectorAll("input[name=entry]"));

  function prepare(page) {
    page.querySelectorAll("time[datetime]").forEach(time => {
      const when = new Date(time.getAttribute("datetime"));
      if (isNaN(when)) return;
      time.title = time.textContent;
      time.textContent = shown.format(when);
    });
    page.querySelectorAll(".trash-tick-all").forEach(label => { label.hidden = false; });
    update(page);
  }

  function update(page) {
    const listing = page.querySelector("#trash-restore-ticked");
    const restore = listing && listing.querySelector(".trash-restore-ticked");
    if (!restore) return;
    const ticked = boxes(listing).filter(box => box.checked).length;
    restore.disabled = ticked === 0;
    restore.textContent = ticked === 0 ? "Tick files to restore them"
      : "Restore " + ticked + " ticked file" + (ticked === 1 ? "" : "s");
    listing.querySelectorAll(".trash-removal").forEach(removal => {
      const all = removal.querySelector(".trash-tick-all input");
      const mine = boxes(removal);
      all.checked = mine.length > 0 && mine.every(box => box.checked);
      all.indeterminate = !all.checked && mine.some(box => box.checked);
    });
  }

  function say(page, result) {
    const status = page.querySelector(".trash-status");
    if (!status) return;
    status.textContent = result.summary;
    status.classList.toggle("trash-failed", !result.ok);
    if (result.problems && result.problems.length) {
      const list = document.createElement("ul");
      result.problems.forEach(problem => {
        const item = document.createElement("li");
        item.textContent = problem;
        list.append(item);
      });
      status.append(list);
    }
  }

  // One POST for the ticked files or a whole removal, then this page read again and put in place.
  async function restoreInPlace(form, submitter) {
    const page = document.querySelector(".trash-page");
    const body = new URLSearchParams(new FormData(form, submitter));  // before disabling: the submitter is sent
    page.querySelectorAll("button").forEach(button => { button.disabled = true; });
    let result;
    try {
      const response = await fetch(form.action, {
        method: "POST",
        body,
        headers: { accept: "application/json" },
        credentials: "same-origin",
      });
      result = (response.headers.get("content-type") || "").startsWith("application/json") ? await response.json()
        : { ok: false, summary: response.status === 403
            ? "Not allowed: sign in with the link printed by datasette … --root, then try again."
            : "The server answered " + response.status + "; nothing was restored by this page." };
    } catch (error) {
      result = { ok: false, summary: "The server did not answer (" + error.message + "); reload the page to see what is in the trash." };
    }
    const again = await fetch(location.href, { credentials: "same-origin" });
    const fresh = new DOMParser().parseFromString(await again.text(), "text/html").querySelector(".trash-page");
    if (again.redirected) history.replaceState(null, "", again.url);
    if (fresh) {
      page.replaceWith(fresh);
      prepare(fresh);
    }
    say(fresh || page, result);
  }

  document.addEventListener("submit", event => {
    const form = event.target;
    if (!form.matches("#trash-restore-ticked, #trash-restore-removal")) return;
    event.preventDefault();
    restoreInPlace(form, event.submitter);
  });
  document.addEventListener("change", event => {
    const page = event.target.closest(".trash-page");
    if (!page) return;
    if (event.target.closest(".trash-tick-all")) {
      boxes(event.target.closest(".trash-removal")).forEach(box => { box.checked = event.target.checked; });
    }
    update(page);
  });

  const page = document.querySelector(".trash-page");
  if (page) prepare(page);
})();
