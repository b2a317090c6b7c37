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
})();
