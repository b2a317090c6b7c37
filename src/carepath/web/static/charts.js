/* Progressive enhancement: draw each chart from its Vega-Lite spec with the vendored
   vega-embed (ast mode: Vega's interpreter, so the Content Security Policy needs no eval;
   no default styles injected, so it needs no inline styles: carepath.css styles the tooltip).
   Without JavaScript the data table under each chart is the content. */
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
  function draw(figure) {
    var source = figure.querySelector("script[type='application/json']");
    var target = figure.querySelector(".chart__canvas");
    if (!source || !target || typeof window.vegaEmbed !== "function") { return; }
    var spec = JSON.parse(source.textContent);
    delete spec.$schema; // built for Vega-Lite 5; the bundled 6 reads it unchanged
    window.vegaEmbed(target, spec, { actions: false, ast: true, renderer: "svg",
      defaultStyle: false, tooltip: { disableDefaultStyle: true } }).then(function (result) {
        var svg = target.querySelector("svg");
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", figure.getAttribute("data-label") || "chart");
        }
        figure.setAttribute("data-rendered", "true");
        if (window.carepathScrollable) { window.carepathScrollable(figure); }
        return result;
      }).catch(function () {
        target.textContent = "The chart could not be drawn; the data are in the table below.";
        figure.setAttribute("data-rendered", "error");
      });
  }
  function init() {
    var figures = document.querySelectorAll("figure.chart[data-chart]");
    for (var i = 0; i < figures.length; i++) { draw(figures[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
