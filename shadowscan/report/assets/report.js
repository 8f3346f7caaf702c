(function () {
  "use strict";
  // Progressive enhancement: without this script the tables are plain HTML.
  function key(cell) {
    var v = cell.getAttribute("data-sort");
    return v === null ? cell.textContent.trim().toLowerCase() : parseFloat(v);
  }
  function each(list, fn) {
    Array.prototype.forEach.call(list, fn);
  }
  each(document.querySelectorAll("table.data"), function (table) {
    var body = table.tBodies[0];
    if (!body || !table.tHead) return;
    var rows = Array.prototype.slice.call(body.rows);
    var box = document.createElement("input");
    box.type = "search";
    box.className = "filter";
    box.placeholder = "Filter rows";
    box.setAttribute("aria-label", "Filter: " + (table.getAttribute("aria-label") || "table"));
    box.addEventListener("input", function () {
      var q = box.value.trim().toLowerCase();
      each(rows, function (row) {
        row.hidden = q !== "" && row.textContent.toLowerCase().indexOf(q) < 0;
      });
    });
    table.parentNode.insertBefore(box, table);
    each(table.tHead.rows[0].cells, function (th, i) {
      var button = document.createElement("button");
      button.type = "button";
      while (th.firstChild) button.appendChild(th.firstChild);
      th.appendChild(button);
      button.addEventListener("click", function () {
        var up = th.getAttribute("aria-sort") !== "ascending";
        each(th.parentNode.cells, function (c) {
          c.removeAttribute("aria-sort");
        });
        th.setAttribute("aria-sort", up ? "ascending" : "descending");
        rows.sort(function (a, b) {
          var x = key(a.cells[i]), y = key(b.cells[i]);
          return (x < y ? -1 : x > y ? 1 : 0) * (up ? 1 : -1);
        });
        each(rows, function (row) {
          body.appendChild(row);
        });
      });
    });
  });
})();
