// The keeper rules page: add, remove and move rules, and a live preview of how many suggested keepers change.
// Without this script the form still works: each row is edited in place and "Preview" posts the form, which
// comes back with the count.
(function () {
  "use strict";
  var form = document.getElementById("shashin-rules");
  if (!form) return;
  var list = form.querySelector(".shashin-rule-list");
  var preview = document.getElementById("shashin-rules-preview");
  var asked = 0;
  var timer = null;

  function rows() {
    return Array.prototype.slice.call(list.querySelectorAll(".shashin-rule"));
  }

  // The argument box shows only for a rule that takes one, and says what it takes. A hidden box is still
  // sent: switched to a rule that takes none, or another kind (a folder is no number of pixels), the
  // argument goes; switched to one of the same kind (folder to not-folder), it stays.
  function fit(row, index) {
    var select = row.querySelector("select");
    var argument = row.querySelector("input[name=argument]");
    var takes = (select.selectedOptions.length && select.selectedOptions[0].getAttribute("data-argument")) || "";
    if (!takes || (row.dataset.takes !== undefined && row.dataset.takes !== takes)) argument.value = "";
    row.dataset.takes = takes;
    argument.hidden = !takes;
    argument.placeholder = takes || "";
    select.setAttribute("aria-label", "Rule " + (index + 1));
    argument.setAttribute("aria-label", "Rule " + (index + 1) + ": " + (takes || "no argument"));
    row.querySelectorAll("[data-move]").forEach(function (button) {
      button.setAttribute("aria-label", button.getAttribute("data-move") + " rule " + (index + 1));
    });
  }

  function refresh() {
    rows().forEach(fit);
    clearTimeout(timer);
    timer = setTimeout(ask, 250);
  }

  function ask() {
    var params = new URLSearchParams();
    rows().forEach(function (row) {
      var argument = row.querySelector("input[name=argument]");
      params.append("criterion", row.querySelector("select").value);
      params.append("argument", argument.hidden ? "" : argument.value);
    });
    var mine = ++asked;
    preview.textContent = "Counting…";
    fetch(form.getAttribute("data-preview") + "?" + params.toString(), {
      headers: { accept: "application/json" },
      credentials: "same-origin",
    })
      .then(function (response) {
        return response.json();
      })
      .then(function (answer) {
        if (mine === asked) preview.textContent = answer.ok ? answer.text : answer.problem;
      })
      .catch(function () {
        if (mine === asked) preview.textContent = "The preview could not be counted; the page's Preview button still works.";
      });
  }

  function blank(row) {
    row.querySelector("select").value = "";
    row.querySelector("input[name=argument]").value = "";
  }

  form.addEventListener("click", function (event) {
    var button = event.target.closest("[data-move]");
    if (!button) return;
    var row = button.closest(".shashin-rule");
    var move = button.getAttribute("data-move");
    if (move === "up" && row.previousElementSibling) {
      list.insertBefore(row, row.previousElementSibling);
    } else if (move === "down" && row.nextElementSibling) {
      list.insertBefore(row.nextElementSibling, row);
    } else if (move === "remove") {
      if (rows().length > 1) row.remove();
      else blank(row);
    }
    button.focus();
    refresh();
  });

  document.getElementById("shashin-add-rule").addEventListener("click", function () {
    var row = rows()[rows().length - 1].cloneNode(true);
    blank(row);
    list.appendChild(row);
    row.querySelector("select").focus();
    refresh();
  });

  form.addEventListener("change", refresh);
  form.addEventListener("input", refresh);
  form.querySelectorAll("[hidden].shashin-rule-moves, #shashin-add-rule").forEach(function (element) {
    element.hidden = false;
  });
  rows().forEach(fit);
})();
