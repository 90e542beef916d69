// The lineage page's graph: reads the page's JSON (the #lineage element's data-src), lays it out left
// to right with dagre and draws it with cytoscape (which pans and zooms). A click on a record opens
// its page. Labels reach cytoscape as data, never as HTML, so a record's name cannot inject markup.
(function () {
  "use strict";

  // a node's size from its text, estimated: cytoscape's own sizing by label is deprecated
  var CHAR_WIDTH = 6.4;
  var LINE_HEIGHT = 14;
  var MAX_CHARS = 28; // longer lines wrap (text-max-width)

  var COLORS = {
    artifact: { fill: "#eef4fb", line: "#4a78b5" },
    collection: { fill: "#e9f6ee", line: "#3a8a5a" },
    run: { fill: "#f3f3f3", line: "#777777" },
    transform: { fill: "#f4effa", line: "#7a5aa8" },
  };

  function style() {
    var rules = [
      {
        selector: "node",
        style: {
          label: "data(text)",
          "text-wrap": "wrap",
          "text-max-width": MAX_CHARS * CHAR_WIDTH + "px",
          "text-valign": "center",
          "text-halign": "center",
          "font-size": "11px",
          "font-family": "system-ui, sans-serif",
          color: "#1d2430",
          width: "data(w)",
          height: "data(h)",
          "border-width": 1,
        },
      },
      { selector: "node[kind = 'artifact'], node[kind = 'collection']", style: { shape: "round-rectangle" } },
      { selector: "node[kind = 'collection']", style: { "border-style": "double", "border-width": 3 } },
      { selector: "node[kind = 'run']", style: { shape: "ellipse" } },
      { selector: "node[kind = 'transform']", style: { shape: "round-tag" } },
      {
        selector: "node[?focus]",
        style: { "background-color": "#fbe3c4", "border-color": "#d97a00", "border-width": 3, "font-weight": "bold" },
      },
      {
        selector: "edge",
        style: {
          width: 1.2,
          "curve-style": "bezier",
          "target-arrow-shape": "triangle",
          "line-color": "#9aa3b2",
          "target-arrow-color": "#9aa3b2",
        },
      },
      {
        selector: "edge[kind = 'initiated']",
        style: { "line-style": "dashed", label: "initiated", "font-size": "9px", color: "#6b7585" },
      },
      { selector: "node:active, node.hover", style: { "overlay-opacity": 0.12, "overlay-color": "#2f6db5" } },
    ];
    Object.keys(COLORS).forEach(function (kind) {
      rules.splice(1, 0, {
        selector: "node[kind = '" + kind + "']",
        style: { "background-color": COLORS[kind].fill, "border-color": COLORS[kind].line },
      });
    });
    return rules;
  }

  function size(text) {
    var lines = 0;
    var widest = 0;
    text.split("\n").forEach(function (line) {
      lines += Math.max(1, Math.ceil(line.length / MAX_CHARS));
      widest = Math.max(widest, Math.min(line.length, MAX_CHARS));
    });
    return { w: widest * CHAR_WIDTH + 24, h: lines * LINE_HEIGHT + 16 };
  }

  function elements(graph) {
    var nodes = graph.nodes.map(function (node) {
      var text = node.detail ? node.label + "\n" + node.detail : node.label;
      var box = size(text);
      return {
        group: "nodes",
        data: {
          id: node.id,
          kind: node.kind,
          href: node.href,
          focus: node.focus,
          text: text,
          w: box.w,
          h: box.h,
        },
      };
    });
    var edges = graph.edges.map(function (edge, i) {
      return { group: "edges", data: { id: "e" + i, source: edge.source, target: edge.target, kind: edge.kind } };
    });
    return nodes.concat(edges);
  }

  function draw(container, graph) {
    var cy = window.cytoscape({
      container: container,
      elements: elements(graph),
      style: style(),
      minZoom: 0.1,
      maxZoom: 3,
      boxSelectionEnabled: false,
      autoungrabify: true,
    });
    window.lamellaLineage = cy;
    cy.on("tap", "node", function (event) {
      var href = event.target.data("href");
      if (href) {
        window.location.href = href;
      }
    });
    cy.on("mouseover", "node", function (event) {
      event.target.addClass("hover");
      container.style.cursor = "pointer";
    });
    cy.on("mouseout", "node", function (event) {
      event.target.removeClass("hover");
      container.style.cursor = "";
    });
    var layout = cy.layout({ name: "dagre", rankDir: "LR", nodeSep: 18, rankSep: 60, fit: true, padding: 20 });
    layout.one("layoutstop", function () {
      if (cy.zoom() > 1.2) {
        cy.zoom(1.2); // a graph of a few nodes stays at reading size
        cy.center();
      }
      document.body.dataset.lineageReady = "1";
    });
    layout.run();
  }

  function fail(container, message) {
    var note = document.createElement("p");
    note.className = "error";
    note.textContent = message;
    container.replaceChildren(note);
    document.body.dataset.lineageReady = "error";
  }

  function start() {
    var container = document.getElementById("lineage");
    if (!container) {
      return;
    }
    if (!window.cytoscape || !window.cytoscapeDagre) {
      fail(container, "the graph's scripts did not load; the records are listed below");
      return;
    }
    window.cytoscape.use(window.cytoscapeDagre);
    fetch(container.dataset.src, { headers: { Accept: "application/json" } })
      .then(function (response) {
        if (!response.ok) {
          throw new Error("the lineage could not be read (HTTP " + response.status + ")");
        }
        return response.json();
      })
      .then(function (graph) {
        draw(container, graph);
      })
      .catch(function (error) {
        fail(container, String(error.message || error));
      });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
