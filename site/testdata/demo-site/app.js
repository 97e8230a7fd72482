// A tiny client-side router and a data fetch: the page is ready when both ran.
(async function () {
  const app = document.getElementById("app");
  const path = location.pathname;
  if (path.startsWith("/app/")) {
    app.textContent = "Client route: " + path.slice("/app/".length);
  } else {
    app.textContent = "Static page: " + path;
  }
  const resp = await fetch("/data.json");
  if (!resp.ok) {
    throw new Error("data.json: " + resp.status);
  }
  const data = await resp.json();
  const list = document.getElementById("facts");
  for (const fact of data.facts) {
    const li = document.createElement("li");
    li.textContent = fact;
    list.appendChild(li);
  }
  document.body.dataset.ready = "1";
})();
