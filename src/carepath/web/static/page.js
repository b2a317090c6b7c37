/* A page the browser brings back from its cache (Back) shows its filter forms as the page
   was made, not as they were last changed: the Period menu said 2021/22 Q3 over a table of
   2024/25 Q4 (a walkthrough). autocomplete="off" on the forms covers a page loaded again. */
(function () {
  "use strict";
  window.addEventListener("pageshow", function (event) {
    if (!event.persisted) { return; }
    var forms = document.querySelectorAll("form.filters");
    for (var i = 0; i < forms.length; i++) { forms[i].reset(); }
  });

  /* A box that scrolls sideways (a wide table, a chart on a phone) is reached from the
     keyboard and named, as the browser alone does not everywhere (an accessibility
     audit). window.carepathScrollable is called again by charts.js once a chart is drawn. */
  function named(box) {
    var caption = box.querySelector("caption");
    if (caption) { return caption.textContent.trim(); }
    var figure = box.closest("figure");
    return figure ? "Chart: " + (figure.getAttribute("data-label") || "") : "Table";
  }
  function scrollable(root) {
    var boxes = (root || document).querySelectorAll(".table-wrap, .chart__canvas");
    for (var i = 0; i < boxes.length; i++) {
      var box = boxes[i];
      if (box.scrollWidth > box.clientWidth + 1) {
        box.setAttribute("tabindex", "0");
        box.setAttribute("role", "region");
        box.setAttribute("aria-label", named(box) + " (scrolls sideways)");
      } else if (box.getAttribute("role") === "region") {
        box.removeAttribute("tabindex");
        box.removeAttribute("role");
        box.removeAttribute("aria-label");
      }
    }
  }
  window.carepathScrollable = scrollable;

  function init() {
    scrollable();
    /* After a refused form, focus goes to what went wrong, as the NHS pattern has it:
       role="alert" on a page's first paint is not announced by every screen reader. */
    var problem = document.querySelector(".error-summary");
    if (problem) {
      problem.focus();
      problem.addEventListener("click", toField);
    }
  }
  /* A link of the error summary focuses its field with the field's label in view (the
     browser's own jump put the field at the top, its label and message above it). */
  function toField(event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) { return; }
    var field = document.getElementById(link.getAttribute("href").slice(1));
    if (!field) { return; }
    event.preventDefault();
    var label = document.querySelector("label[for='" + field.id + "']") ||
      (field.closest("fieldset") && field.closest("fieldset").querySelector("legend"));
    var details = field.closest("details");
    if (details) { details.open = true; }
    (label || field).scrollIntoView({ block: "center" });
    field.focus({ preventScroll: true });
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
  var pending = null;
  window.addEventListener("resize", function () {
    clearTimeout(pending);
    pending = setTimeout(function () { scrollable(); }, 200);
  });
})();
