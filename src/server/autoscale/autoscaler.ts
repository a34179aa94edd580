/**
 * The autoscaling controller: after every metrics sample it asks each autoscaled service's
 * {@link ServiceScaler} for a replica count and, when it differs, sets the service's desired
 * replicas (as `drover scale` does) with an event that carries the decision's inputs. A service
 * in the middle of a rollout is left alone until the rollout ends: the rollout sizes its sets
 * from the replica count it started with.
 */
import type { MetricPoint, ReplicaRecord, RevisionRecord, ServiceRecord } from "../../contract/index.js";
import type { Store } from "../../store/store.js";
import type { EventBus } from "../event-bus.js";
import { LoadForecaster, type ForecastStatus } from "./forecaster.js";
import { readingsOf, ServiceScaler, STALE_AFTER_INTERVALS, type ForecastFloor, type ScalingDecision } from "./service-scaler.js";
import { scalingSettings, type ScalingSettings } from "./settings.js";
import { median } from "../../stats.js";

const ROLLING_OUT = new Set(["progressing", "paused", "rolling_back"]);
/** Assumed time from a replica's start to ready until the service has shown its own. */
const DEFAULT_STARTUP_MS = 10_000;
const MINUTE_MS = 60_000;

export interface AutoscaleStatus {
  service: string;
  enabled: boolean;
  current: number;
  desired: number | null;
  min: number | null;
  max: number | null;
  /** Each metric's latest per-replica value against its target. */
  readings: ScalingDecision["readings"];
  decisions: ScalingDecision[];
  forecast: (ForecastStatus & { floor: ForecastFloor | null; leadTimeMs: number | null }) | null;
  /** Why nothing is decided now, when nothing is (a rollout, no fresh sample). */
  note: string | null;
}

interface Entry {
  settingsKey: string;
  scaler: ServiceScaler;
  forecaster: LoadForecaster;
  /** The forecaster has had the stored minutes once. */
  loaded: boolean;
  lastFloor: ForecastFloor | null;
  leadTimeMs: number | null;
  note: string | null;
  lastHeld: string | null;
}

export class Autoscaler {
  private readonly entries = new Map<string, Entry>();
  /** Each service's current revision, read once per revision. */
  private readonly revisions = new Map<string, RevisionRecord>();

  constructor(
    private readonly store: Store,
    private readonly events: EventBus,
    private readonly latest: () => Map<string, MetricPoint>,
    private readonly intervalMs: number,
    private readonly onScaled: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  async evaluate(): Promise<void> {
    const now = this.now();
    // Most services do not autoscale: find those that do before reading anything else.
    const scaled: Array<{ service: ServiceRecord; settings: ScalingSettings }> = [];
    const services = await this.store.listServices();
    const names = new Set(services.map((s) => s.name));
    for (const name of this.revisions.keys()) if (!names.has(name)) this.revisions.delete(name);
    for (const service of services) {
      if (!service.enabled || service.deleting) continue;
      const settings = scalingSettings((await this.revision(service)).descriptor.spec);
      if (settings) scaled.push({ service, settings });
    }
    const seen = new Set(scaled.map((s) => s.service.name));
    for (const name of this.entries.keys()) if (!seen.has(name)) this.entries.delete(name);
    if (scaled.length === 0) return;
    const points = this.latest();
    const replicas = await this.store.listReplicas();
    for (const { service, settings } of scaled) {
      const entry = this.entry(service.name, settings);
      const own = replicas.filter((r) => r.service === service.name);
      const [rollout] = await this.store.listRollouts(service.name, 1);
      if (rollout && ROLLING_OUT.has(rollout.state)) {
        entry.note = `a rollout is ${rollout.state.replace("_", " ")}: scaling waits for its end`;
        continue;
      }
      const point = points.get(service.name) ?? null;
      const fresh = point !== null && now - point.at <= STALE_AFTER_INTERVALS * this.intervalMs;
      entry.note = fresh ? null : "no fresh sample: no scale-down";
      const running = own.filter((r) => r.revision === service.revision && ["running", "ready", "unready"].includes(r.state)).length;
      const floor = settings.predictive ? await this.forecastFloor(service.name, entry, settings, own, now) : null;
      const decision = entry.scaler.step(now, service.replicas, readingsOf(settings, point, running, fresh), floor);
      await this.act(service, entry, decision);
    }
  }

  async status(service: ServiceRecord): Promise<AutoscaleStatus> {
    const settings = scalingSettings((await this.revision(service)).descriptor.spec);
    const entry = this.entries.get(service.name);
    const decisions = entry?.scaler.decisions ?? [];
    const last = decisions[decisions.length - 1];
    return {
      service: service.name,
      enabled: settings !== null,
      current: service.replicas,
      desired: last?.to ?? null,
      min: settings?.min ?? null,
      max: settings?.max ?? null,
      readings: last?.readings ?? [],
      decisions: decisions.slice(-10),
      forecast: entry && settings?.predictive ? { ...entry.forecaster.status(), floor: entry.lastFloor, leadTimeMs: entry.leadTimeMs } : null,
      note: entry?.note ?? (settings ? "no decision yet (one follows each metrics sample)" : "the service does not autoscale (no target, rule or predictive in spec.scaling)"),
    };
  }

  private async act(service: ServiceRecord, entry: Entry, decision: ScalingDecision): Promise<void> {
    if (decision.to !== service.replicas) {
      entry.lastHeld = null;
      await this.store.updateService(service.name, { replicas: decision.to });
      await this.events.emit({ type: "Autoscaled", service: service.name, replica: null, reason: decision.to > decision.from ? "ScaledUp" : "ScaledDown", message: decision.text });
      this.onScaled();
      return;
    }
    // A change the metrics ask for but a window, a policy or a missing metric holds back: said once.
    const held = decision.hpa && decision.hpa.recommendation !== decision.from ? decision.hpa.reason : null;
    if (held && held !== entry.lastHeld) await this.events.emit({ type: "AutoscaleHeld", service: service.name, replica: null, reason: "Held", message: decision.text });
    entry.lastHeld = held;
  }

  private async forecastFloor(name: string, entry: Entry, settings: ScalingSettings, own: ReplicaRecord[], now: number): Promise<ForecastFloor | null> {
    // All the stored minutes once, then only the newest few each time (the forecaster skips what it has).
    const since = entry.loaded ? now - 3 * MINUTE_MS : now - 14 * 1440 * MINUTE_MS;
    entry.forecaster.update(now, await this.store.listMetricMinutes(name, since, now));
    entry.loaded = true;
    const startups = own.filter((r) => r.readyAt !== null && r.startedAt !== null).map((r) => r.readyAt! - r.startedAt!);
    entry.leadTimeMs = settings.predictive!.leadTimeMs ?? (startups.length ? median(startups) : DEFAULT_STARTUP_MS) + settings.predictive!.marginMs;
    entry.lastFloor = entry.forecaster.floor(now, entry.leadTimeMs);
    return entry.lastFloor;
  }

  private entry(name: string, settings: ScalingSettings): Entry {
    const key = JSON.stringify(settings);
    let entry = this.entries.get(name);
    if (entry && entry.settingsKey !== key) {
      // New settings keep the decision history; a forecaster for other targets starts again.
      entry.scaler.settings = settings;
      entry.settingsKey = key;
      entry.forecaster = new LoadForecaster(settings);
      entry.loaded = false;
    }
    if (!entry) {
      entry = { settingsKey: key, scaler: new ServiceScaler(settings), forecaster: new LoadForecaster(settings), loaded: false, lastFloor: null, leadTimeMs: null, note: null, lastHeld: null };
      this.entries.set(name, entry);
    }
    return entry;
  }

  private async revision(service: ServiceRecord): Promise<RevisionRecord> {
    let revision = this.revisions.get(service.name);
    if (revision?.number !== service.revision) {
      revision = (await this.store.getRevision(service.name, service.revision))!;
      this.revisions.set(service.name, revision);
    }
    return revision;
  }
}
