// validate.mjs NAME=FILE...: validate rendered kustomize output offline.
//
//  1. every core object against the Kubernetes OpenAPI schemas (kubernetes-models), and
//     strictly: a field the API does not know fails (read from the models' type
//     declarations), as `kubectl apply --validate=strict` would;
//  2. the operators' objects (CloudNativePG Cluster, RabbitmqCluster) against
//     crd-schemas.mjs, their nested core types as in 1;
//  3. the project's rules: probes on the health endpoints, requests and limits, a
//     restrictive securityContext, a Service, HPA and PDB per service, references that
//     resolve (ConfigMaps, Secrets made by the operators, database hosts), NetworkPolicies
//     that let only the gateway in from outside.
// Prints one line per overlay and every problem; exits 1 on any problem.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import YAML from "yaml";
import Ajv from "ajv";
import { CRD_SCHEMAS, CORE_FIELDS } from "./crd-schemas.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const MODELS = path.join(here, "node_modules", "kubernetes-models");
const APIMACHINERY = path.join(here, "node_modules", "@kubernetes-models", "apimachinery");

// ---------------------------------------------------------------- strict fields

// The interface of a .d.ts: property name -> {type, file} (file: where its interface is).
const dtsCache = new Map();
function readInterface(file) {
  if (dtsCache.has(file)) return dtsCache.get(file);
  let result = null;
  if (fs.existsSync(file)) {
    const text = fs.readFileSync(file, "utf8");
    const imports = new Map();
    for (const m of text.matchAll(/import \{ (\w+) \} from "([^"]+)";/g)) {
      let spec = m[2];
      let target;
      if (spec.startsWith("@kubernetes-models/apimachinery/")) target = path.join(APIMACHINERY, spec.slice(32));
      else if (spec.startsWith(".")) target = path.resolve(path.dirname(file), spec);
      else continue;
      imports.set(m[1], target.replace(/\.js$/, "") + ".d.ts");
    }
    const block = text.match(/export interface \w+(?: extends [\w, ]+)? \{\n([\s\S]*?)\n\}/);
    if (block) {
      const body = block[1].replace(/\/\*\*[\s\S]*?\*\//g, "");
      result = new Map();
      for (const m of body.matchAll(/^ {4}"([^"]+)"\??: (.*)$/gm)) {
        let type = m[2].replace(/;$/, "");
        let array = false;
        const arr = type.match(/^Array<(\w+)>$/);
        if (arr) { type = arr[1]; array = true; }
        result.set(m[1], { array, file: imports.get(type) ?? null, map: type.startsWith("{") });
      }
    }
  }
  dtsCache.set(file, result);
  return result;
}

function checkFields(value, file, where, problems) {
  const iface = readInterface(file);
  if (!iface || value === null || typeof value !== "object" || Array.isArray(value)) return;
  for (const [key, v] of Object.entries(value)) {
    const field = iface.get(key);
    if (!field) {
      problems.push(`${where}.${key}: unknown field`);
      continue;
    }
    if (!field.file || field.map) continue;
    if (field.array && Array.isArray(v)) v.forEach((item, i) => checkFields(item, field.file, `${where}.${key}[${i}]`, problems));
    else if (!field.array) checkFields(v, field.file, `${where}.${key}`, problems);
  }
}

// ---------------------------------------------------------------- models

function modelPath(apiVersion, kind) {
  const [group, version] = apiVersion.includes("/") ? apiVersion.split("/") : [null, apiVersion];
  return path.join(MODELS, ...(group ? [group, version] : [version]), kind);
}

async function validateCore(obj, where, problems, rel = null, className = obj.kind) {
  const base = rel ? path.join(MODELS, rel) : modelPath(obj.apiVersion, obj.kind);
  if (!fs.existsSync(base + ".js")) {
    problems.push(`${where}: no schema for ${rel ?? obj.apiVersion + " " + obj.kind}`);
    return;
  }
  const mod = await import(pathToFileURL(base + ".js").href);
  const Model = mod[className];
  try {
    new Model(obj).validate();
  } catch (e) {
    problems.push(`${where}: ${e.message}`);
  }
  checkFields(obj, base + ".d.ts", where, problems);
}

const ajv = new Ajv({ allErrors: true, strict: false });
const crdValidators = Object.fromEntries(Object.entries(CRD_SCHEMAS).map(([k, s]) => [k, ajv.compile(s)]));

function pointer(obj, ptr) {
  return ptr.split("/").slice(1).reduce((o, k) => (o == null ? undefined : o[k]), obj);
}

async function validateObject(obj, where, problems) {
  const key = `${obj.apiVersion}/${obj.kind}`;
  if (crdValidators[key]) {
    const v = crdValidators[key];
    if (!v(obj)) {
      for (const e of v.errors) problems.push(`${where}${e.instancePath}: ${e.message}${e.params?.additionalProperty ? ` (${e.params.additionalProperty})` : ""}`);
    }
    for (const [ptr, [rel, cls]] of Object.entries(CORE_FIELDS[key] ?? {})) {
      const sub = pointer(obj, ptr);
      if (sub !== undefined) await validateCore(sub, `${where}${ptr}`, problems, rel, cls);
    }
    return;
  }
  await validateCore(obj, where, problems);
}

// ---------------------------------------------------------------- project rules

function rules(objects, overlay, problems) {
  const by = (kind) => objects.filter((o) => o.kind === kind);
  const named = (kind, name) => objects.find((o) => o.kind === kind && o.metadata?.name === name);
  const fail = (msg) => problems.push(msg);
  const namespaces = new Set(objects.map((o) => o.metadata?.namespace).filter(Boolean));
  if (namespaces.size !== 1) fail(`objects in ${namespaces.size} namespaces (${[...namespaces]}): expected one`);
  for (const o of objects) {
    if (o.kind !== "Namespace" && !o.metadata?.namespace) fail(`${o.kind}/${o.metadata?.name}: no namespace`);
  }

  const clusters = new Set(by("Cluster").map((c) => c.metadata.name));
  const rabbit = by("RabbitmqCluster").map((r) => r.metadata.name);
  const secrets = new Set([...[...clusters].map((c) => `${c}-app`), ...rabbit.map((r) => `${r}-default-user`)]);
  const configMaps = new Set(by("ConfigMap").map((c) => c.metadata.name));
  const services = by("Service");
  const deployments = by("Deployment");
  if (deployments.length !== 7) fail(`${deployments.length} Deployments: expected the gateway and six services`);

  for (const d of deployments) {
    const name = d.metadata.name;
    const where = `Deployment/${name}`;
    const pod = d.spec.template.spec;
    const podLabels = d.spec.template.metadata?.labels ?? {};
    for (const [k, v] of Object.entries(d.spec.selector.matchLabels ?? {})) {
      if (podLabels[k] !== v) fail(`${where}: selector ${k}=${v} does not match the pod's labels`);
    }
    if (pod.automountServiceAccountToken !== false) fail(`${where}: mounts a service account token`);
    const psc = pod.securityContext ?? {};
    if (psc.runAsNonRoot !== true) fail(`${where}: pod securityContext.runAsNonRoot is not true`);
    if (psc.seccompProfile?.type !== "RuntimeDefault") fail(`${where}: no RuntimeDefault seccomp profile`);
    for (const c of pod.containers) {
      const cw = `${where}/${c.name}`;
      const sc = c.securityContext ?? {};
      if (sc.readOnlyRootFilesystem !== true) fail(`${cw}: root file system not read-only`);
      if (sc.allowPrivilegeEscalation !== false) fail(`${cw}: allowPrivilegeEscalation not false`);
      if (sc.privileged) fail(`${cw}: privileged`);
      if (!(sc.capabilities?.drop ?? []).includes("ALL")) fail(`${cw}: capabilities not dropped`);
      // A service is ready without the broker (its outbox and queue wait); the gateway has none.
      const ready = name === "gateway" ? "/health/ready" : "/health/ready?broker=optional";
      if (c.readinessProbe?.httpGet?.path !== ready) fail(`${cw}: readiness probe is not GET ${ready}`);
      if (c.livenessProbe?.httpGet?.path !== "/health/live") fail(`${cw}: liveness probe is not GET /health/live`);
      const r = c.resources ?? {};
      for (const res of ["cpu", "memory"]) if (!r.requests?.[res]) fail(`${cw}: no ${res} request`);
      if (!r.limits?.memory) fail(`${cw}: no memory limit`);
      if (!r.limits?.cpu) fail(`${cw}: no cpu limit`);
      if (overlay === "production" && /(:latest|:dev)$|^[^:]+$/.test(c.image)) fail(`${cw}: image ${c.image} is not a release`);
      const env = Object.fromEntries((c.env ?? []).map((e) => [e.name, e]));
      for (const e of c.env ?? []) {
        const ref = e.valueFrom?.secretKeyRef;
        if (ref && !secrets.has(ref.name)) fail(`${cw}: env ${e.name} reads Secret ${ref.name}, which no operator makes here`);
      }
      for (const f of c.envFrom ?? []) {
        if (f.configMapRef && !configMaps.has(f.configMapRef.name)) fail(`${cw}: ConfigMap ${f.configMapRef.name} does not exist`);
      }
      const port = c.ports?.[0]?.containerPort;
      if (String(port) !== env.PORT?.value) fail(`${cw}: PORT ${env.PORT?.value} differs from the container port ${port}`);
      if (env.DB_HOST) {
        const host = env.DB_HOST.value;
        if (!host.endsWith("-rw") || !clusters.has(host.slice(0, -3))) fail(`${cw}: DB_HOST ${host} is no cluster's primary`);
        const cluster = named("Cluster", host.slice(0, -3));
        if (cluster && cluster.spec.bootstrap?.initdb?.database !== env.DB_NAME?.value) fail(`${cw}: DB_NAME differs from ${cluster.metadata.name}'s database`);
      }
    }
    const svc = services.find((s) => Object.entries(s.spec.selector ?? {}).every(([k, v]) => podLabels[k] === v));
    if (!svc) fail(`${where}: no Service selects it`);
    else if (name !== "gateway" && svc.spec.type && svc.spec.type !== "ClusterIP") fail(`Service/${svc.metadata.name}: type ${svc.spec.type}; only the gateway may be exposed`);
    const hpa = by("HorizontalPodAutoscaler").find((h) => h.spec.scaleTargetRef.kind === "Deployment" && h.spec.scaleTargetRef.name === name);
    if (!hpa) fail(`${where}: no HorizontalPodAutoscaler`);
    else if ((hpa.spec.minReplicas ?? 1) > hpa.spec.maxReplicas) fail(`HorizontalPodAutoscaler/${name}: minReplicas > maxReplicas`);
    // The autoscaler owns the count: a fixed one would reset it on every apply.
    if (hpa && d.spec.replicas !== undefined) fail(`${where}: spec.replicas is set, but HorizontalPodAutoscaler/${name} owns the count`);
    const pdb = by("PodDisruptionBudget").find((p) => Object.entries(p.spec.selector?.matchLabels ?? {}).every(([k, v]) => podLabels[k] === v));
    if (!pdb) fail(`${where}: no PodDisruptionBudget`);
  }

  // NetworkPolicies: ingress denied by default; only the gateway open to any source.
  const policies = by("NetworkPolicy");
  const denyAll = policies.find((p) => Object.keys(p.spec.podSelector ?? {}).length === 0 && (p.spec.policyTypes ?? []).includes("Ingress") && !(p.spec.ingress ?? []).length);
  if (!denyAll) fail("no default-deny ingress NetworkPolicy");
  for (const p of policies) {
    for (const rule of p.spec.ingress ?? []) {
      const open = !rule.from || rule.from.length === 0;
      const target = p.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"];
      if (open && target !== "gateway") fail(`NetworkPolicy/${p.metadata.name}: opens ${target ?? "pods"} to any source`);
    }
  }
  for (const d of deployments) {
    const name = d.metadata.name;
    const covered = policies.some((p) => p.spec.podSelector?.matchLabels?.["app.kubernetes.io/name"] === name && (p.spec.policyTypes ?? []).includes("Egress"));
    if (!covered) fail(`Deployment/${name}: no egress NetworkPolicy`);
  }

  // Operators' objects: sound replication settings.
  for (const c of by("Cluster")) {
    const s = c.spec;
    if (s.maxSyncReplicas !== undefined && s.maxSyncReplicas >= s.instances) fail(`Cluster/${c.metadata.name}: maxSyncReplicas must be below instances`);
    if ((s.minSyncReplicas ?? 0) > (s.maxSyncReplicas ?? 0)) fail(`Cluster/${c.metadata.name}: minSyncReplicas > maxSyncReplicas`);
  }
  for (const r of by("RabbitmqCluster")) {
    const conf = r.spec.rabbitmq?.additionalConfig ?? "";
    if (!/^default_queue_type\s*=\s*quorum\s*$/m.test(conf)) fail(`RabbitmqCluster/${r.metadata.name}: queues are not quorum queues by default`);
    // A queue declared while a node was joining has fewer members; only reconciliation adds them.
    if ((r.spec.replicas ?? 1) > 1 && !/^quorum_queue\.continuous_membership_reconciliation\.enabled\s*=\s*true\s*$/m.test(conf)) {
      fail(`RabbitmqCluster/${r.metadata.name}: ${r.spec.replicas} nodes without quorum queue membership reconciliation`);
    }
  }
}

// ---------------------------------------------------------------- main

let failed = 0;
for (const arg of process.argv.slice(2)) {
  const [overlay, file] = arg.split("=");
  const problems = [];
  const docs = YAML.parseAllDocuments(fs.readFileSync(file, "utf8"));
  const objects = [];
  for (const doc of docs) {
    if (doc.errors.length) problems.push(`YAML: ${doc.errors[0].message}`);
    const obj = doc.toJS();
    if (obj) objects.push(obj);
  }
  for (const obj of objects) {
    await validateObject(obj, `${obj.kind}/${obj.metadata?.name}`, problems);
  }
  rules(objects, overlay, problems);
  const kinds = {};
  for (const o of objects) kinds[o.kind] = (kinds[o.kind] ?? 0) + 1;
  const summary = Object.entries(kinds).map(([k, n]) => `${n} ${k}`).join(", ");
  if (problems.length) {
    failed++;
    console.log(`FAIL ${overlay}: ${objects.length} objects, ${problems.length} problems`);
    for (const p of problems) console.log(`  ${p}`);
  } else {
    console.log(`ok   ${overlay}: ${objects.length} objects valid (${summary})`);
  }
}
process.exit(failed ? 1 : 0);
