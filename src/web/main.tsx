/** The dashboard: log in, then overview, service, events and audit, host — live from the event stream. */
import { render } from "preact";
import { useEffect, useState } from "preact/hooks";
import { api, ApiError, followEvents, redeem, setToken, token, type Identity, type StreamedEvent } from "./api.js";
import { EventsPage } from "./events.js";
import { HostPage } from "./host.js";
import { NodesPage } from "./nodes.js";
import { WorkloadsPage } from "./workloads.js";
import { Overview } from "./overview.js";
import { ServicePage } from "./service.js";
import "./style.css";

function useHash(): string {
  const [hash, setHash] = useState(location.hash || "#/");
  useEffect(() => {
    const changed = () => setHash(location.hash || "#/");
    window.addEventListener("hashchange", changed);
    return () => window.removeEventListener("hashchange", changed);
  }, []);
  return hash;
}

function useTheme(): [string, () => void] {
  const [theme, setTheme] = useState(localStorage.getItem("drover.theme") ?? (matchMedia("(prefers-color-scheme: dark)").matches ? "dark" : "light"));
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem("drover.theme", theme);
  }, [theme]);
  return [theme, () => setTheme(theme === "dark" ? "light" : "dark")];
}

function Login(props: { onLogin: () => void; error: string | null }) {
  const [value, setValue] = useState("");
  return (
    <main class="login">
      <h1>drover</h1>
      <form
        onSubmit={(e) => {
          e.preventDefault();
          setToken(value.trim());
          props.onLogin();
        }}
      >
        <label for="token">API token</label>
        <input id="token" type="password" autocomplete="off" value={value} onInput={(e) => setValue((e.target as HTMLInputElement).value)} required />
        <button type="submit">Log in</button>
        {props.error && <p role="alert" class="error">{props.error}</p>}
        <p class="muted">Or run <code>drover dashboard</code> for a one-time login link.</p>
      </form>
    </main>
  );
}

function App() {
  const hash = useHash();
  const [theme, toggleTheme] = useTheme();
  const [me, setMe] = useState<Identity | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [tick, setTick] = useState(0);
  const [events, setEvents] = useState<StreamedEvent[]>([]);

  const identify = () =>
    api.get<Identity>("/api/v1/whoami").then(setMe, (e: ApiError) => {
      setMe(null);
      if (token()) setError(e.message);
      setToken(null);
    });

  useEffect(() => {
    const login = /login=([^&]+)/.exec(location.hash)?.[1];
    if (login) {
      history.replaceState(null, "", location.pathname + "#/");
      redeem(decodeURIComponent(login)).then(identify, (e: Error) => setError(e.message));
    } else if (token()) void identify();
  }, []);

  // Live: each event refreshes what is on screen (coalesced), and the newest are kept for the feed.
  useEffect(() => {
    if (!me) return;
    let pending: number | undefined;
    const stop = followEvents((event) => {
      setEvents((list) => (list.some((e) => e.id === event.id) ? list : [event, ...list].slice(0, 200)));
      if (pending === undefined) pending = window.setTimeout(() => ((pending = undefined), setTick((t) => t + 1)), 300);
    });
    const poll = window.setInterval(() => setTick((t) => t + 1), 5000);
    return () => {
      stop();
      window.clearInterval(poll);
    };
  }, [me]);

  if (!me) return <Login onLogin={identify} error={error} />;
  const route = hash.replace(/^#/, "");
  const service = /^\/service\/(.+)$/.exec(route)?.[1];
  const canAct = me.role !== "viewer";
  return (
    <>
      <a class="skip" href="#main">Skip to content</a>
      <header>
        <nav aria-label="Main">
          <a class="brand" href="#/">drover</a>
          <a href="#/" aria-current={route === "/" ? "page" : undefined}>Overview</a>
          <a href="#/events" aria-current={route === "/events" ? "page" : undefined}>Events{me.role === "admin" ? " & audit" : ""}</a>
          <a href="#/nodes" aria-current={route === "/nodes" ? "page" : undefined}>Nodes</a>
          <a href="#/workloads" aria-current={route === "/workloads" ? "page" : undefined}>Jobs &amp; data</a>
          <a href="#/host" aria-current={route === "/host" ? "page" : undefined}>Host</a>
        </nav>
        <div class="who">
          <span>
            {me.name} <span class="badge">{me.role}</span>
          </span>
          <button type="button" onClick={toggleTheme} aria-label={`Switch to ${theme === "dark" ? "light" : "dark"} theme`}>
            {theme === "dark" ? "☀" : "☾"}
          </button>
          <button type="button" onClick={() => (setToken(null), setMe(null))}>Log out</button>
        </div>
      </header>
      <main id="main" tabIndex={-1}>
        {service ? (
          <ServicePage name={decodeURIComponent(service)} tick={tick} canAct={canAct} events={events} />
        ) : route === "/events" ? (
          <EventsPage live={events} admin={me.role === "admin"} />
        ) : route === "/nodes" ? (
          <NodesPage tick={tick} canAct={canAct} />
        ) : route === "/workloads" ? (
          <WorkloadsPage tick={tick} canAct={canAct} />
        ) : route === "/host" ? (
          <HostPage tick={tick} />
        ) : (
          <Overview tick={tick} />
        )}
      </main>
    </>
  );
}

render(<App />, document.getElementById("app")!);
