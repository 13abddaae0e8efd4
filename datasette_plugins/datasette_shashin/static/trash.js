// The trash page: times in this browser's time zone, ticking a whole removal, the restore button
// saying how many files it restores. Without this script the page still works: its times say UTC,
// and the button restores whatever is ticked.
(() => {
  const page = document.querySelector(".trash-page");
  if (!page) return;

  const shown = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });
  page.querySelectorAll("time[datetime]").forEach(time => {
    const when = new Date(time.getAttribute("datetime"));
    if (isNaN(when)) return;
    time.title = time.textContent;
    time.textContent = shown.format(when);
  });

  const listing = document.getElementById("trash-restore-ticked");
  const restore = listing && listing.querySelector(".trash-restore-ticked");
  if (!restore) return;
  const boxes = scope => Array.from(scope.querySelectorAll("input[name=entry]"));

  function update() {
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

  listing.querySelectorAll(".trash-tick-all").forEach(label => {
    label.hidden = false;
    label.querySelector("input").addEventListener("change", event => {
      boxes(label.closest(".trash-removal")).forEach(box => { box.checked = event.target.checked; });
      update();
    });
  });
  listing.addEventListener("change", event => {
    if (event.target.name === "entry") update();
  });
  update();
})();
