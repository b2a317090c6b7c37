/* Progressive enhancement: draw each chart from its Vega-Lite spec with the vendored
   vega-embed (ast mode: Vega's interpreter, so the Content Security Policy needs no eval;
   no default styles injected, so it needs no inline styles: carepath.css styles the tooltip).
   Without JavaScript the data table under each chart is the content. */
(function () {
  "use strict";
  document.documentElement.classList.remove("no-js");
  // Share of a narrow chart's width its category labels may take before they are cut
  // (the full name is in the tooltip and the table); never narrower than LABEL_MIN px.
  var LABEL_SHARE = 0.4, LABEL_MIN = 60;

  /* The spec redrawn to fit ``room`` pixels: the plot takes the container's width, long
     category labels are cut, and the legend goes underneath. At 320 px and at 200% zoom
     the bar charts scrolled sideways inside their box, so their first view showed only
     part of the axis (an accessibility audit). */
  function fitted(spec, room) {
    var s = JSON.parse(JSON.stringify(spec));
    s.width = "container";
    s.autosize = { type: "fit-x", contains: "padding" };
    s.config = s.config || {};
    // Legends under the plot, one above another (side by side they ran off the edge)
    s.config.legend = Object.assign({}, s.config.legend, { orient: "bottom",
      titleLimit: room, labelLimit: room,
      layout: { bottom: { anchor: "start", direction: "vertical" } } });
    // An x title is centred on the plot, which the labels leave (1 - LABEL_SHARE) of
    s.config.axisX = Object.assign({}, s.config.axisX,
      { titleLimit: Math.round(room * (1 - LABEL_SHARE)) });
    var limit = Math.max(LABEL_MIN, Math.round(room * LABEL_SHARE));
    (s.layer || [s]).forEach(function (layer) {
      var y = layer.encoding && layer.encoding.y;
      if (y && y.type === "nominal") {
        y.axis = Object.assign({}, y.axis, { labelLimit: limit });
      }
    });
    return s;
  }

  function draw(figure, spec, narrow) {
    var target = figure.querySelector(".chart__canvas");
    window.vegaEmbed(target, spec, { actions: false, ast: true, renderer: "svg",
      defaultStyle: false, tooltip: { disableDefaultStyle: true } }).then(function (result) {
        var svg = target.querySelector("svg");
        var room = target.clientWidth;
        if (svg && !narrow && room && svg.getBoundingClientRect().width > room + 1) {
          result.finalize();
          target.textContent = "";
          draw(figure, fitted(spec, room), true);
          return result;
        }
        if (svg) {
          svg.setAttribute("role", "img");
          svg.setAttribute("aria-label", figure.getAttribute("data-label") || "chart");
        }
        figure.setAttribute("data-rendered", "true");
        if (narrow) { figure.setAttribute("data-fitted", "true"); }
        if (window.carepathScrollable) { window.carepathScrollable(figure); }
        return result;
      }).catch(function () {
        target.textContent = "The chart could not be drawn; the data are in the table below.";
        figure.setAttribute("data-rendered", "error");
      });
  }

  function start(figure) {
    var source = figure.querySelector("script[type='application/json']");
    var target = figure.querySelector(".chart__canvas");
    if (!source || !target || typeof window.vegaEmbed !== "function") { return; }
    var spec = JSON.parse(source.textContent);
    delete spec.$schema; // built for Vega-Lite 5; the bundled 6 reads it unchanged
    draw(figure, spec, false);
  }
  function init() {
    var figures = document.querySelectorAll("figure.chart[data-chart]");
    for (var i = 0; i < figures.length; i++) { start(figures[i]); }
  }
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else { init(); }
})();
