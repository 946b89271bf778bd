// The engine's Dockerfile builder. It runs the stages the target needs, in order, keeping
// the image config as it goes; each step's result is stored as an unnamed image of the
// store and recorded in the build cache, so an unchanged step is found and reused without
// running anything. RUN steps run in a container the engine makes for them (a StepRunner:
// the engine's own containers, so they get its bridge network, DNS and NAT); their overlay
// upper dir becomes the step's layer. COPY and ADD make their layer from the files they
// copy. Metadata steps (ENV, CMD, ...) add no layer, only a history entry. A FROM of an
// image the engine lacks (or any FROM, with --pull) is pulled through `pullImage`.

import { randomBytes } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, mkdir, open, readFile, readlink, rm } from 'node:fs/promises';
import { join, posix } from 'node:path';
import tar from 'tar-stream';
import { mountImageRootfs, unmountRootfs } from '../rootfs.js';
import type { ImageConfig, ImageStore, ResolvedImage } from '../store.js';
import { RegistryAuthError } from '../registry/auth.js';
import type { StoreHold } from '../store-holds.js';
import { decompressed, safeParts } from '../unpack.js';
import { BuildCache, cacheKey } from './build-cache.js';
import {
  argDeclarations, commandOf, copyPaths, DockerfileError, exposedPorts, healthcheckOf, keyValues, parseDockerfile, runScript, stageByRef, stagesNeeded,
  type Dockerfile, type Instruction, type Stage,
} from './dockerfile.js';
import type { RegistryCredentials } from '../../common/docker-config.js';
import { parseDockerignore } from '../../common/dockerignore.js';
import { NotFoundError } from '../../common/errors.js';
import { storeLayer, upperDirEntries, type LayerEntry } from './layer-tar.js';
import { resolveChown, resolveRelative } from './root-paths.js';
import { expandWord, expandWords, SubstitutionError, type VarLookup } from './shell-words.js';
import { hashFiles, SourceRoot, type SourceFile } from './source-files.js';

/** Runs one RUN step's command in a container of `imageId` (a step result of the store). */
export interface StepRunner {
  run(request: RunRequest): Promise<RunOutcome>;
}

export interface RunRequest {
  imageId: string;
  args: string[];
  env: string[];
  user: string;
  workdir: string;
  onOutput: (text: string) => void;
  signal?: AbortSignal;
}

export interface RunOutcome {
  exitCode: number;
  /** The container's overlay upper dir: what the command changed. */
  upperDir: string;
  /** Paths the runtime mounted over (/proc, /etc/hosts, ...): stubs it made for them are not content. */
  mountTargets: string[];
  /** Removes the container (after the layer is made). */
  release(): Promise<void>;
}

export interface BuildRequest {
  contextDir: string;
  /** The Dockerfile's path in the context (default `Dockerfile`). */
  dockerfile?: string;
  tags?: string[];
  buildArgs?: Record<string, string>;
  target?: string;
  labels?: Record<string, string>;
  noCache?: boolean;
  pull?: boolean;
  /** The build's output as Docker streams it: step lines, the steps' output, results. */
  output: (text: string) => void;
  signal?: AbortSignal;
  /** Logins the client sent (X-Registry-Config), by registry host, for pulling FROM images. */
  registryLogins?: ReadonlyMap<string, RegistryCredentials>;
}

export interface BuildResult {
  /** The image ID: its config digest. */
  id: string;
  image: ResolvedImage;
  tags: string[];
  /** Steps run and steps found in the cache. */
  ran: number;
  cached: number;
}

/** A step failed: says which, with the tail of what it printed. */
export class BuildError extends Error {
  constructor(message: string, readonly step?: string) {
    super(message);
    this.name = 'BuildError';
  }
}

export interface BuilderOptions {
  store: ImageStore;
  /** An image by name or ID (the engine's lookup). */
  findImage: (ref: string) => Promise<ResolvedImage>;
  /**
   * Pulls a base image from its registry, telling its progress as text lines (the engine's
   * registry client). Without it, a FROM of a missing image fails.
   */
  pullImage?: (ref: string, say: (line: string) => void, options: { signal?: AbortSignal | undefined; logins?: ReadonlyMap<string, RegistryCredentials> | undefined }) => Promise<ResolvedImage>;
  runner: StepRunner;
  now?: () => Date;
  /**
   * A hold on store content for one build (the engine's StoreHolds): everything the build
   * stands on or made stays through garbage collection until the build ends.
   */
  hold?: () => StoreHold;
  /** Runs a store write (blobs, then what names them) with no garbage collection in between. */
  guardWrite?: <T>(work: () => Promise<T>) => Promise<T>;
}

const DEFAULT_SHELL = ['/bin/sh', '-c'];
const OUTPUT_TAIL_LINES = 20;
const HOST_PLATFORM = `linux/${process.arch === 'x64' ? 'amd64' : process.arch}`;
/** The platform ARGs BuildKit predefines in the global scope (usable once declared). */
const PLATFORM_ARGS: Record<string, string> = {
  TARGETPLATFORM: HOST_PLATFORM, TARGETOS: 'linux', TARGETARCH: HOST_PLATFORM.slice(6), TARGETVARIANT: '',
  BUILDPLATFORM: HOST_PLATFORM, BUILDOS: 'linux', BUILDARCH: HOST_PLATFORM.slice(6), BUILDVARIANT: '',
};

/** A stage as it is being built. */
interface StageState {
  image: ResolvedImage | undefined;
  config: ImageConfig;
  /** What the next step's cache key starts from: the current result's manifest digest. */
  parent: string;
  /** ARGs declared in this stage, with their values (undefined: declared, no value). */
  args: Map<string, string | undefined>;
  cmdSet: boolean;
}

export class Builder {
  private readonly cache: BuildCache;

  constructor(private readonly options: BuilderOptions) {
    this.cache = new BuildCache(options.store);
  }

  private now(): string {
    return (this.options.now?.() ?? new Date()).toISOString();
  }

  async build(request: BuildRequest): Promise<BuildResult> {
    const run = new BuildRun(this, request);
    return run.execute();
  }

  /** @internal used by BuildRun */
  get store(): ImageStore {
    return this.options.store;
  }
  /** @internal */
  get deps(): BuilderOptions {
    return this.options;
  }
  /** @internal */
  get stepCache(): BuildCache {
    return this.cache;
  }
  /** @internal */
  timestamp(): string {
    return this.now();
  }
}

/** One build: the Dockerfile, the context, and the stages' results as they come. */
class BuildRun {
  private dockerfile!: Dockerfile;
  private context!: SourceRoot;
  private readonly results = new Map<number, StageState>();
  private readonly globalArgs = new Map<string, string | undefined>();
  private readonly usedBuildArgs = new Set<string>();
  private step = 0;
  private total = 0;
  private ran = 0;
  private cached = 0;

  private readonly hold: StoreHold;

  constructor(private readonly builder: Builder, private readonly request: BuildRequest) {
    this.hold = builder.deps.hold?.() ?? { addImage: () => undefined, addLayer: () => undefined, release: () => undefined };
  }

  private guardWrite<T>(work: () => Promise<T>): Promise<T> {
    return this.builder.deps.guardWrite ? this.builder.deps.guardWrite(work) : work();
  }

  /** Stores a step's layer and holds it until the build ends (no image names it yet). */
  private storeLayer(entries: AsyncIterable<LayerEntry> | Iterable<LayerEntry>): Promise<LayerResult> {
    return this.guardWrite(async () => {
      const layer = await storeLayer(this.builder.store, entries);
      this.hold.addLayer(layer.digest, layer.diffId);
      return layer;
    });
  }

  private say(text: string): void {
    this.request.output(text);
  }

  async execute(): Promise<BuildResult> {
    try {
      return await this.executeHeld();
    } finally {
      this.hold.release();
    }
  }

  private async executeHeld(): Promise<BuildResult> {
    const { request } = this;
    const name = request.dockerfile ?? 'Dockerfile';
    const dockerfilePath = join(request.contextDir, await resolveRelative(request.contextDir, name));
    let source: string;
    try {
      source = await readFile(dockerfilePath, 'utf8');
    } catch (err) {
      throw new BuildError(`cannot read the Dockerfile "${name}" in the build context: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
    }
    this.dockerfile = parseDockerfile(source, name);
    const ignoreText = await readFile(join(request.contextDir, '.dockerignore'), 'utf8').catch(() => '');
    this.context = new SourceRoot(request.contextDir, parseDockerignore(ignoreText));

    const buildArgs = request.buildArgs ?? {};
    for (const ins of this.dockerfile.globalArgs) {
      for (const decl of argDeclarations(ins, (n) => this.globalArgs.get(n), this.dockerfile.escape)) {
        const value = Object.hasOwn(buildArgs, decl.name) ? buildArgs[decl.name] : decl.default ?? PLATFORM_ARGS[decl.name];
        if (Object.hasOwn(buildArgs, decl.name)) this.usedBuildArgs.add(decl.name);
        this.globalArgs.set(decl.name, value);
      }
    }
    const stages = this.wrap(this.dockerfile.stages[0]!.from, () => stagesNeeded(this.dockerfile, request.target, (s) => this.baseName(s)));
    const labels = Object.entries(request.labels ?? {});
    this.total = stages.reduce((n, s) => n + 1 + s.instructions.length, 0) + (labels.length ? 1 : 0);

    let last: StageState | undefined;
    for (const stage of stages) {
      last = await this.buildStage(stage);
      this.results.set(stage.index, last);
    }
    if (labels.length) {
      const text = `LABEL ${labels.map(([k, v]) => `${k}=${JSON.stringify(v)}`).join(' ')}`;
      this.say(`Step ${++this.step}/${this.total} : ${text}\n`);
      await this.cachedStep(last!, text, [], async (state) => {
        state.config.config.Labels = { ...(state.config.config.Labels ?? {}), ...Object.fromEntries(labels) };
        return undefined;
      });
    }
    const unused = Object.keys(buildArgs).filter((k) => !this.usedBuildArgs.has(k));
    if (unused.length) this.say(`[Warning] One or more build-args [${unused.join(' ')}] were not consumed\n`);

    const final = last!;
    const image = final.image ?? (await this.storeState(final, undefined));
    const id = image.manifest.config.digest;
    this.say(`Successfully built ${id.slice(7, 19)}\n`);
    const tags: string[] = [];
    for (const tag of request.tags ?? []) {
      await this.guardWrite(() => this.builder.store.putImage(image.layers, image.config, tag));
      tags.push(tag);
      this.say(`Successfully tagged ${tag}\n`);
    }
    return { id, image, tags, ran: this.ran, cached: this.cached };
  }

  /** Runs `work`, turning substitution and parse errors into errors naming the instruction's line. */
  private wrap<T>(ins: Instruction, work: () => T): T {
    try {
      return work();
    } catch (err) {
      if (err instanceof SubstitutionError) throw new DockerfileError(this.dockerfile.file, ins.line, err.message);
      throw err;
    }
  }

  private baseName(stage: Stage): string {
    return this.wrap(stage.from, () => expandWord(stage.base, (n) => this.globalArgs.get(n), this.dockerfile.escape));
  }

  private async buildStage(stage: Stage): Promise<StageState> {
    const { from } = stage;
    this.say(`Step ${++this.step}/${this.total} : ${from.text}\n`);
    const platform = from.flags.get('platform');
    if (platform !== undefined) {
      const wanted = this.wrap(from, () => expandWord(platform, (n) => this.globalArgs.get(n) ?? PLATFORM_ARGS[n], this.dockerfile.escape));
      if (wanted !== HOST_PLATFORM && wanted !== 'linux') {
        throw new DockerfileError(this.dockerfile.file, from.line, `--platform=${wanted}: this builder builds for the host's platform only (${HOST_PLATFORM})`);
      }
    }
    const baseRef = this.baseName(stage);
    let state: StageState;
    const earlier = stageByRef(this.dockerfile, baseRef, stage.index);
    if (earlier) {
      const built = this.results.get(earlier.index)!;
      const image = built.image ?? (await this.storeState(built, undefined));
      state = this.stateOf(image);
    } else if (baseRef.toLowerCase() === 'scratch') {
      state = {
        image: undefined,
        config: { architecture: HOST_PLATFORM.slice(6), os: 'linux', config: {}, rootfs: { type: 'layers', diff_ids: [] }, history: [] },
        parent: 'scratch',
        args: new Map(),
        cmdSet: false,
      };
    } else {
      const image = await this.baseImage(baseRef, from);
      state = this.stateOf(image);
    }
    this.say(` ---> ${state.image ? state.image.manifest.config.digest.slice(7, 19) : 'scratch'}\n`);
    for (const ins of stage.instructions) {
      this.say(`Step ${++this.step}/${this.total} : ${ins.text}\n`);
      await this.instruction(state, ins);
    }
    return state;
  }

  /**
   * A FROM's base: the engine's own, else pulled (as docker build does); with --pull always
   * pulled, falling back to the engine's own only when the registry cannot be reached.
   */
  private async baseImage(baseRef: string, from: Instruction): Promise<ResolvedImage> {
    const { findImage, pullImage } = this.builder.deps;
    const fail = (err: unknown, advice: string): BuildError =>
      new BuildError(`${this.dockerfile.file}:${from.line}: FROM ${baseRef}: ${(err as Error).message}${advice}`, `FROM ${baseRef}`);
    const pull = async (): Promise<ResolvedImage> => pullImage!(baseRef, (line) => this.say(line), { signal: this.request.signal, logins: this.request.registryLogins });
    if (this.request.pull) {
      if (!pullImage) {
        this.say(` ---> [Warning] --pull: this engine cannot pull from registries; using ${baseRef} from its store\n`);
      } else {
        try {
          return await pull();
        } catch (err) {
          const own = await findImage(baseRef).catch(() => undefined);
          if (!own) throw fail(err, '');
          this.say(` ---> [Warning] --pull: ${(err as Error).message}; using ${baseRef} from the engine's store\n`);
          return own;
        }
      }
    }
    try {
      return await findImage(baseRef);
    } catch (err) {
      if (!pullImage || !(err instanceof NotFoundError)) {
        throw fail(err, pullImage ? '' : ' (make it with "stack image bootstrap" or "stack image import", or build it first)');
      }
    }
    try {
      return await pull();
    } catch (err) {
      // A refused login already says what to do.
      if (err instanceof RegistryAuthError) throw fail(err, '');
      throw fail(err, ' (the engine lacks it and could not pull it: make it with "stack image bootstrap", "stack image import" or "stack load", or build it first)');
    }
  }

  private stateOf(image: ResolvedImage): StageState {
    this.hold.addImage(image.manifestDigest);
    return { image, config: structuredClone(image.config), parent: image.manifestDigest, args: new Map(), cmdSet: false };
  }

  /** ENV first, then the stage's ARGs: what substitution sees. */
  private lookup(state: StageState): VarLookup {
    const env = new Map<string, string>();
    for (const entry of state.config.config.Env ?? []) {
      const eq = entry.indexOf('=');
      env.set(eq === -1 ? entry : entry.slice(0, eq), eq === -1 ? '' : entry.slice(eq + 1));
    }
    return (name) => env.get(name) ?? state.args.get(name);
  }

  private async instruction(state: StageState, ins: Instruction): Promise<void> {
    const escape = this.dockerfile.escape;
    const vars = this.lookup(state);
    const cfg = (): ImageConfig['config'] => state.config.config;
    const meta = (text: string, change: () => void): Promise<void> =>
      this.cachedStep(state, text, [], async () => {
        change();
        return undefined;
      });
    switch (ins.keyword) {
      case 'ENV': {
        const pairs = this.wrap(ins, () => keyValues(ins, vars, escape));
        return meta(`ENV ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
          for (const [k, v] of pairs) setEnv(state.config, k, v);
        });
      }
      case 'LABEL': {
        const pairs = this.wrap(ins, () => keyValues(ins, vars, escape));
        return meta(`LABEL ${pairs.map(([k, v]) => `${k}=${v}`).join(' ')}`, () => {
          state.config.config.Labels = { ...(cfg().Labels ?? {}), ...Object.fromEntries(pairs) };
        });
      }
      case 'MAINTAINER':
        return meta(`MAINTAINER ${ins.rest}`, () => {
          state.config.author = ins.rest;
        });
      case 'ARG': {
        const buildArgs = this.request.buildArgs ?? {};
        const decls = this.wrap(ins, () => argDeclarations(ins, vars, escape));
        for (const d of decls) {
          if (Object.hasOwn(buildArgs, d.name)) this.usedBuildArgs.add(d.name);
          const value = Object.hasOwn(buildArgs, d.name) ? buildArgs[d.name] : d.default ?? (this.globalArgs.has(d.name) ? this.globalArgs.get(d.name) : PLATFORM_ARGS[d.name]);
          state.args.set(d.name, value);
        }
        return meta(`ARG ${decls.map((d) => (state.args.get(d.name) === undefined ? d.name : `${d.name}=${state.args.get(d.name)}`)).join(' ')}`, () => undefined);
      }
      case 'WORKDIR': {
        const dir = posix.resolve(cfg().WorkingDir || '/', this.wrap(ins, () => expandWord(ins.rest, vars, escape)));
        return this.cachedStep(state, `WORKDIR ${dir}`, [], async (s) => {
          s.config.config.WorkingDir = dir;
          return this.workdirLayer(s, dir);
        });
      }
      case 'USER': {
        const user = this.wrap(ins, () => expandWord(ins.rest, vars, escape));
        return meta(`USER ${user}`, () => {
          state.config.config.User = user;
        });
      }
      case 'EXPOSE': {
        const ports = this.wrap(ins, () => exposedPorts(expandWords(ins.rest, vars, escape)));
        return meta(`EXPOSE ${ports.join(' ')}`, () => {
          state.config.config.ExposedPorts = { ...(cfg().ExposedPorts ?? {}), ...Object.fromEntries(ports.map((p) => [p, {}])) };
        });
      }
      case 'VOLUME': {
        const paths = this.wrap(ins, () => (ins.json ? ins.json.map((p) => expandWord(p, vars, escape)) : expandWords(ins.rest, vars, escape)));
        return meta(`VOLUME ${JSON.stringify(paths)}`, () => {
          state.config.config.Volumes = { ...(cfg().Volumes ?? {}), ...Object.fromEntries(paths.map((p) => [p, {}])) };
        });
      }
      case 'STOPSIGNAL': {
        const signal = this.wrap(ins, () => expandWord(ins.rest, vars, escape));
        return meta(`STOPSIGNAL ${signal}`, () => {
          state.config.config.StopSignal = signal;
        });
      }
      case 'SHELL':
        return meta(`SHELL ${JSON.stringify(ins.json)}`, () => {
          state.config.config.Shell = ins.json!;
        });
      case 'CMD': {
        const cmd = commandOf(ins, cfg().Shell ?? DEFAULT_SHELL);
        return meta(`CMD ${JSON.stringify(cmd)}`, () => {
          state.config.config.Cmd = cmd;
          state.cmdSet = true;
        });
      }
      case 'ENTRYPOINT': {
        const entrypoint = commandOf(ins, cfg().Shell ?? DEFAULT_SHELL);
        return meta(`ENTRYPOINT ${JSON.stringify(entrypoint)}`, () => {
          state.config.config.Entrypoint = entrypoint;
          // As Docker: an ENTRYPOINT drops a CMD inherited from the base image.
          if (!state.cmdSet) delete state.config.config.Cmd;
        });
      }
      case 'HEALTHCHECK': {
        const health = healthcheckOf(ins);
        return meta(`HEALTHCHECK ${JSON.stringify(health)}`, () => {
          state.config.config.Healthcheck = health;
        });
      }
      case 'RUN':
        return this.runStep(state, ins);
      case 'COPY':
      case 'ADD':
        return this.copyStep(state, ins);
      default:
        throw new DockerfileError(this.dockerfile.file, ins.line, `${ins.keyword} is not supported by this builder`);
    }
  }

  /**
   * A step whose result is cached under (parent, text, extra). On a miss `work` changes
   * the state's config and may return a layer; the result is stored and recorded.
   */
  private async cachedStep(state: StageState, text: string, extra: unknown[], work: (state: StageState) => Promise<LayerResult | undefined>, createdBy?: string): Promise<void> {
    const key = cacheKey([state.parent, text, ...extra]);
    if (!this.request.noCache) {
      const hit = await this.builder.stepCache.lookup(key, (digest) => this.hold.addImage(digest));
      if (hit !== undefined) {
        const image = await this.builder.store.resolveManifest(hit);
        const args = state.args;
        const cmdSet = state.cmdSet;
        Object.assign(state, this.stateOf(image), { args, cmdSet });
        this.cached++;
        this.say(` ---> Using cache\n ---> ${image.manifest.config.digest.slice(7, 19)}\n`);
        return;
      }
    }
    this.ran++;
    const layer = await work(state);
    const history = { created: this.builder.timestamp(), created_by: createdBy ?? `/bin/sh -c #(nop) ${text}`, ...(layer ? {} : { empty_layer: true }) };
    state.config.history = [...(state.config.history ?? []), history];
    state.config.created = history.created;
    const image = await this.storeState(state, layer);
    await this.builder.stepCache.record(key, image.manifestDigest);
    Object.assign(state, { image, config: structuredClone(image.config), parent: image.manifestDigest });
    this.say(` ---> ${image.manifest.config.digest.slice(7, 19)}\n`);
  }

  /** Stores the state (plus `layer` on top of its layers) as an unnamed image. */
  private async storeState(state: StageState, layer: LayerResult | undefined): Promise<ResolvedImage> {
    const layers = [...(state.image?.layers ?? [])].map(({ diffId: _d, ...l }) => l);
    if (layer) {
      layers.push({ mediaType: layer.mediaType, digest: layer.digest, size: layer.size });
      state.config.rootfs = { type: 'layers', diff_ids: [...state.config.rootfs.diff_ids, layer.diffId] };
    }
    // Held before the guard ends: a prune waiting on it must already see the hold.
    const image = await this.guardWrite(async () => {
      const stored = await this.builder.store.putUntagged(layers, state.config);
      this.hold.addImage(stored.manifestDigest);
      return stored;
    });
    state.image = image;
    return image;
  }

  // ---- RUN ------------------------------------------------------------------------------

  private async runStep(state: StageState, ins: Instruction): Promise<void> {
    const shell = state.config.config.Shell ?? DEFAULT_SHELL;
    const args = ins.json ?? [...shell, runScript(ins)];
    // The build args in scope are part of the step (Docker's `|N K=V` prefix) and of its environment.
    const argPairs = [...state.args].filter((e): e is [string, string] => e[1] !== undefined).map(([k, v]) => `${k}=${v}`);
    const createdBy = `${argPairs.length ? `|${argPairs.length} ${argPairs.join(' ')} ` : ''}${args.join(' ')}`;
    if (!state.image || state.image.layers.length === 0) {
      throw new BuildError(`${this.dockerfile.file}:${ins.line}: RUN needs a base with a filesystem (a stage FROM scratch has nothing to run)`, ins.text);
    }
    await this.cachedStep(state, `RUN ${JSON.stringify(args)}`, [argPairs], async (s) => {
      const env = [...(s.config.config.Env ?? [])];
      for (const pair of argPairs) if (!env.some((e) => e.split('=', 1)[0] === pair.split('=', 1)[0])) env.push(pair);
      const tail: string[] = [];
      let partial = '';
      const outcome = await this.builder.deps.runner.run({
        imageId: s.image!.manifest.config.digest,
        args,
        env,
        user: s.config.config.User ?? '',
        workdir: s.config.config.WorkingDir || '/',
        onOutput: (text) => {
          this.say(text);
          const lines = (partial + text).split('\n');
          partial = lines.pop() ?? '';
          tail.push(...lines);
          if (tail.length > OUTPUT_TAIL_LINES) tail.splice(0, tail.length - OUTPUT_TAIL_LINES);
        },
        ...(this.request.signal ? { signal: this.request.signal } : {}),
      });
      try {
        if (outcome.exitCode !== 0) {
          if (partial) tail.push(partial);
          const shown = tail.length ? `:\n${tail.join('\n')}` : ' (it printed nothing)';
          throw new BuildError(`The command '${args.join(' ')}' (${this.dockerfile.file}:${ins.line}, step ${this.step}/${this.total}) returned a non-zero code: ${outcome.exitCode}${shown}`, ins.text);
        }
        const targets = new Set(outcome.mountTargets.map((t) => t.replace(/^\/+/, '')));
        return await this.storeLayer(upperDirEntries(outcome.upperDir, (rel, empty) => empty && targets.has(rel)));
      } finally {
        await outcome.release();
      }
    }, createdBy);
  }

  // ---- WORKDIR --------------------------------------------------------------------------

  /** The directory WORKDIR names, made (root-owned, 0755) when the image lacks it. */
  private async workdirLayer(state: StageState, dir: string): Promise<LayerResult | undefined> {
    return this.withRootfs(state.image, async (root) => {
      const entries = new Map<string, LayerEntry>();
      const resolved = await resolveRelative(root, dir);
      const st = await lstat(join(root, resolved)).catch(() => undefined);
      if (st?.isDirectory()) return undefined;
      await addParents(root, resolved, entries, { uid: 0, gid: 0 }, true);
      return this.storeLayer(entries.values());
    });
  }

  // ---- COPY / ADD -----------------------------------------------------------------------

  private async copyStep(state: StageState, ins: Instruction): Promise<void> {
    const escape = this.dockerfile.escape;
    const vars = this.lookup(state);
    const { sources, dest } = this.wrap(ins, () => copyPaths(ins, vars, escape));
    const fail = (message: string): never => {
      throw new BuildError(`${this.dockerfile.file}:${ins.line}: ${ins.keyword} failed: ${message}`, ins.text);
    };
    for (const s of sources) if (/^[a-z][a-z0-9+.-]*:\/\//i.test(s)) fail(`"${s}" is a URL: this builder does not download; fetch it in a RUN step (curl, wget) or COPY a local copy`);
    const chownSpec = ins.flags.get('chown') === undefined ? undefined : this.wrap(ins, () => expandWord(ins.flags.get('chown')!, vars, escape));
    const chmodSpec = ins.flags.get('chmod');
    if (chmodSpec !== undefined && !/^[0-7]{3,4}$/.test(chmodSpec)) fail(`--chmod=${chmodSpec} is not an octal mode like 0755`);
    const chmod = chmodSpec === undefined ? undefined : parseInt(chmodSpec, 8);
    const fromRef = ins.flags.get('from');
    const heredocFiles = new Map(ins.heredocs.map((h) => [h.name, h]));
    const workdir = state.config.config.WorkingDir || '/';
    const destAbs = posix.resolve(workdir, dest);

    let fromImage: ResolvedImage | undefined;
    if (fromRef !== undefined) {
      const stage = this.wrap(ins, () => stageByRef(this.dockerfile, fromRef, this.dockerfile.stages.length));
      if (stage) {
        const built = this.results.get(stage.index);
        if (!built) fail(`--from=${fromRef}: that stage is not built before this one`);
        fromImage = built!.image ?? (await this.storeState(built!, undefined));
      } else {
        try {
          fromImage = await this.builder.deps.findImage(fromRef);
          this.hold.addImage(fromImage.manifestDigest);
        } catch (err) {
          fail(`--from=${fromRef}: ${(err as Error).message}`);
        }
      }
    }

    const plan = async (from: SourceRoot): Promise<{ files: PlannedFile[]; destIsDir: boolean }> => {
      const files: PlannedFile[] = [];
      let many = 0;
      let anyDir = false;
      for (const source of sources) {
        const heredoc = /^<<-?["']?([A-Za-z_][A-Za-z0-9_.-]*)["']?$/.exec(source);
        if (heredoc && heredocFiles.has(heredoc[1]!)) {
          files.push({ kind: 'body', name: heredoc[1]!, body: Buffer.from(heredocFiles.get(heredoc[1]!)!.body) });
          many++;
          continue;
        }
        const matches = await from.match(source);
        if (matches.length === 0) fail(`file not found in ${from.what}${from === this.context ? ' or excluded by .dockerignore' : ''}: "${source}"`);
        many += matches.length;
        for (const m of matches) {
          if (m.st.isDirectory()) {
            anyDir = true;
            files.push({ kind: 'dir', top: m, children: await from.walk(m) });
          } else {
            files.push({ kind: 'file', file: m, name: posix.basename(m.rel) || 'file' });
          }
        }
      }
      return { files, destIsDir: dest.endsWith('/') || many > 1 || anyDir };
    };

    const produce = async (from: SourceRoot): Promise<{ extra: unknown[]; make: () => Promise<LayerResult | undefined> }> => {
      const { files, destIsDir } = await plan(from);
      const hashInput: Array<{ name: string; file: SourceFile; linkname?: string }> = [];
      for (const f of files) {
        if (f.kind === 'file') hashInput.push({ name: f.name, file: f.file });
        else if (f.kind === 'dir') for (const c of f.children) hashInput.push({ name: `${f.top.rel}/${c.rel}`, file: c });
      }
      const extra = fromImage ? [fromImage.manifestDigest, destIsDir] : [await hashFiles(hashInput), destIsDir, files.filter((f) => f.kind === 'body').map((f) => (f as { body: Buffer }).body.toString('base64'))];
      const make = (): Promise<LayerResult | undefined> => this.withRootfs(state.image, async (root) => {
        const owner = chownSpec !== undefined ? await resolveChown(root, chownSpec) : undefined;
        const entries = new Map<string, LayerEntry>();
        const existing = await lstat(join(root, await resolveRelative(root, destAbs))).catch(() => undefined);
        const intoDir = destIsDir || existing?.isDirectory() === true;
        const destDir = await resolveRelative(root, intoDir ? destAbs : posix.dirname(destAbs));
        await addParents(root, destDir, entries, owner ?? { uid: 0, gid: 0 }, true);
        const target = (name: string): string => (intoDir ? (destDir === '' ? name : `${destDir}/${name}`) : posix.join(destDir, posix.basename(destAbs)).replace(/^\/+/, ''));
        const own = (st: { uid: number; gid: number }): { uid: number; gid: number } => owner ?? (fromImage ? { uid: st.uid, gid: st.gid } : { uid: 0, gid: 0 });
        for (const f of files) {
          if (f.kind === 'body') {
            entries.set(target(f.name), { path: target(f.name), type: 'file', mode: chmod ?? 0o644, ...(owner ?? { uid: 0, gid: 0 }), mtime: new Date(), body: f.body });
          } else if (f.kind === 'file') {
            const path = target(f.name);
            if (ins.keyword === 'ADD' && fromRef === undefined && (await isArchive(f.file.abs))) {
              const extractTo = intoDir ? destDir : path;
              await addParents(root, extractTo, entries, owner ?? { uid: 0, gid: 0 }, true);
              await addArchive(f.file.abs, extractTo, entries, fail);
              continue;
            }
            entries.set(path, await fileEntry(path, f.file, chmod, own(f.file.st)));
          } else {
            const base = intoDir ? destDir : posix.join(destDir, posix.basename(destAbs)).replace(/^\/+/, '');
            if (!intoDir) await addParents(root, base, entries, owner ?? { uid: 0, gid: 0 }, true);
            for (const c of f.children) {
              const path = base === '' ? c.rel : `${base}/${c.rel}`;
              entries.set(path, await fileEntry(path, c, chmod, own(c.st)));
            }
          }
        }
        return this.storeLayer(entries.values());
      });
      return { extra, make };
    };

    const run = async (from: SourceRoot): Promise<void> => {
      const { extra, make } = await produce(from);
      const text = `${ins.keyword} ${[...ins.flags].filter(([k]) => k !== 'link').map(([k, v]) => `--${k}=${v} `).join('')}${JSON.stringify(sources)} ${dest}`;
      await this.cachedStep(state, text, extra, make, `/bin/sh -c #(nop) ${ins.keyword} ${sources.join(' ')} in ${dest}`);
    };
    if (fromImage) await this.withRootfs(fromImage, (root) => run(new SourceRoot(root, [], `--from=${fromRef}`)));
    else await run(this.context);
  }

  /** Mounts `image`'s layers (read through a throwaway upper) for the time of `work`. */
  private async withRootfs<T>(image: ResolvedImage | undefined, work: (root: string) => Promise<T>): Promise<T> {
    const store = this.builder.store;
    const base = join(store.tmpDir, `build-${randomBytes(6).toString('hex')}`);
    const dirs = { upper: join(base, 'upper'), work: join(base, 'work'), target: join(base, 'rootfs') };
    try {
      if (!image || image.layers.length === 0) {
        await mkdir(dirs.target, { recursive: true });
        return await work(dirs.target);
      }
      await mountImageRootfs(store, image, dirs);
      try {
        return await work(dirs.target);
      } finally {
        await unmountRootfs(dirs.target);
      }
    } finally {
      await rm(base, { recursive: true, force: true });
    }
  }
}

type LayerResult = Awaited<ReturnType<typeof storeLayer>>;

type PlannedFile =
  | { kind: 'file'; file: SourceFile; name: string }
  | { kind: 'dir'; top: SourceFile; children: SourceFile[] }
  | { kind: 'body'; name: string; body: Buffer };

function setEnv(config: ImageConfig, name: string, value: string): void {
  const env = (config.config.Env ?? []).filter((e) => e.split('=', 1)[0] !== name);
  env.push(`${name}=${value}`);
  config.config.Env = env;
}

async function fileEntry(path: string, file: SourceFile, chmod: number | undefined, owner: { uid: number; gid: number }): Promise<LayerEntry> {
  const { st } = file;
  const base = { path, uid: owner.uid, gid: owner.gid, mtime: st.mtime };
  if (st.isDirectory()) return { ...base, type: 'directory', mode: chmod ?? st.mode & 0o7777 };
  if (st.isSymbolicLink()) return { ...base, type: 'symlink', mode: 0o777, linkname: await readlink(file.abs) };
  return { ...base, type: 'file', mode: chmod ?? st.mode & 0o7777, source: file.abs, size: st.size };
}

/**
 * Directory entries for `rel` and its parents: those the image has keep their owner and
 * mode (the layer must not change them); missing ones are made with `owner`, 0755.
 */
async function addParents(root: string, rel: string, entries: Map<string, LayerEntry>, owner: { uid: number; gid: number }, includeSelf: boolean): Promise<void> {
  const parts = rel.split('/').filter(Boolean);
  for (let i = 1; i <= parts.length - (includeSelf ? 0 : 1); i++) {
    const path = parts.slice(0, i).join('/');
    if (entries.has(path)) continue;
    const st = await lstat(join(root, path)).catch(() => undefined);
    entries.set(path, st?.isDirectory()
      ? { path, type: 'directory', mode: st.mode & 0o7777, uid: st.uid, gid: st.gid, mtime: st.mtime }
      : { path, type: 'directory', mode: 0o755, uid: owner.uid, gid: owner.gid, mtime: new Date() });
  }
}

/** A tar archive, plain or gzip (ADD extracts those; bzip2 and xz are refused by the caller's extract). */
async function isArchive(path: string): Promise<boolean> {
  const fh = await open(path, 'r');
  try {
    const head = Buffer.alloc(512);
    const { bytesRead } = await fh.read(head, 0, 512, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return true;
    if (bytesRead >= 3 && head.subarray(0, 3).toString('latin1') === 'BZh') return true;
    if (bytesRead >= 6 && head.subarray(0, 6).equals(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]))) return true;
    return bytesRead >= 262 && head.subarray(257, 262).toString('latin1') === 'ustar';
  } finally {
    await fh.close();
  }
}

/** ADD of a local archive: its entries, under `destDir`, keeping their owners and modes. */
async function addArchive(path: string, destDir: string, entries: Map<string, LayerEntry>, fail: (message: string) => never): Promise<void> {
  const head = Buffer.alloc(6);
  const fh = await open(path, 'r');
  await fh.read(head, 0, 6, 0);
  await fh.close();
  if (head.subarray(0, 3).toString('latin1') === 'BZh' || head[0] === 0xfd) fail(`${posix.basename(path)}: bzip2 and xz archives are not extracted by this builder; use a plain or gzip tar`);
  const extract = tar.extract();
  const done = new Promise<void>((resolve, reject) => {
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => { chunks.push(c as Buffer); });
      stream.on('end', () => {
        try {
          const parts = safeParts(header.name);
          if (parts.length > 0 && ['directory', 'file', 'symlink', 'link'].includes(header.type ?? '')) {
            const rel = [destDir, ...parts].filter(Boolean).join('/');
            const entry: LayerEntry = {
              path: rel, type: header.type as LayerEntry['type'], mode: header.mode ?? 0o644, uid: header.uid ?? 0, gid: header.gid ?? 0, mtime: header.mtime ?? new Date(0),
            };
            if (header.type === 'file') entry.body = Buffer.concat(chunks);
            if (header.type === 'symlink') entry.linkname = header.linkname ?? '';
            if (header.type === 'link') entry.linkname = [destDir, ...safeParts(header.linkname ?? '')].filter(Boolean).join('/');
            entries.set(rel, entry);
          }
          next();
        } catch (err) {
          next(err as Error);
        }
      });
    });
    extract.on('finish', resolve);
    extract.on('error', reject);
  });
  (await decompressed(createReadStream(path))).pipe(extract);
  await done;
}
