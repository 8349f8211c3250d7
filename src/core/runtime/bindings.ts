import { Binding, bindingsOf, BOUND_SIGNATURE, describeBinding } from '../model/bindings';
import { PluginError, PolicyError } from '../model/errors';
import { maySpawn, Policy } from '../model/policy';
import { describePlugin } from '../model/registry';
import type { BoundImport } from './hostFunctions';
import type { LivePlugin } from './livePlugin';

/** A bound import as the runtime keeps it: its target, found once at load, followed across reloads. */
export interface BoundSlot extends BoundImport {
  readonly binding: Binding;
  /** The plugin that imports it (its id survives a reload). */
  readonly binderId: number;
  readonly binderName: string;
  /** The plugin it calls; null once that one is gone, and `gone` says why. */
  callee: LivePlugin | null;
  gone: string;
}

/** What binding needs of the runtime. */
export interface BindingHost {
  policy(): Policy;
  /** Loads a plugin by name as the binder's child (spawn limits and events as for register_plugin). */
  loadChild(binder: LivePlugin, pluginName: string, who: string): LivePlugin;
  remove(id: number): void;
  /** Makes the call, with the same checks and span as call_plugin, marked as bound. */
  call(slot: BoundSlot, input: Uint8Array): Uint8Array;
}

/**
 * The bindings of live plugins: checked once when a plugin loads (its imports' types, the spawn
 * permission), their targets loaded as its children; nothing about them is looked up per call.
 */
export class Bindings {
  private readonly byCallee = new Map<number, BoundSlot[]>();
  /** The plugins whose bindings are being loaded, outermost first: a binding cycle is refused. */
  private readonly loading: string[] = [];

  constructor(private readonly host: BindingHost) {}

  /** Checks a plugin's bindings and loads their targets as its children, before it starts. */
  bind(plugin: LivePlugin): BoundImport[] {
    const policy = this.host.policy();
    const bindings = bindingsOf(policy.bindings, plugin.name);
    if (!bindings.length) return [];
    for (const b of bindings) this.check(policy, plugin, b);
    const children = new Map<string, LivePlugin>();
    this.loading.push(plugin.name);
    try {
      for (const b of bindings) {
        let child = children.get(b.plugin);
        if (!child) {
          child = this.host.loadChild(plugin, b.plugin, `${describePlugin(plugin)}: binding ${describeBinding(b)}`);
          children.set(b.plugin, child);
        }
        if (!child.instance.hasExport(b.func)) {
          throw new PluginError(`${describePlugin(plugin)}: binding ${describeBinding(b)}: ${describePlugin(child)} has no export "${b.func}"`);
        }
      }
    } catch (error) {
      for (const child of children.values()) this.host.remove(child.id);
      throw error;
    } finally {
      this.loading.pop();
    }
    return bindings.map((b) => this.slot(plugin, b, children.get(b.plugin) as LivePlugin));
  }

  /** A reloaded plugin keeps its bound targets; its new module must still import them as they are typed. */
  rebind(fresh: LivePlugin, old: LivePlugin): BoundImport[] {
    for (const b of old.bound as BoundSlot[]) checkImport(fresh, b.binding);
    return old.bound as BoundImport[];
  }

  /** A plugin was reloaded: its binders call the fresh one. */
  replaced(fresh: LivePlugin): void {
    for (const slot of this.byCallee.get(fresh.id) ?? []) slot.callee = fresh;
  }

  /** A plugin was unregistered: a call to it through a binding fails, naming it. */
  removed(plugin: LivePlugin): void {
    for (const slot of this.byCallee.get(plugin.id) ?? []) {
      slot.callee = null;
      slot.gone = `${describePlugin(plugin)} was unregistered`;
    }
    this.byCallee.delete(plugin.id);
  }

  /** A new policy: a binding it no longer allows is cut, and says so when called. */
  configured(policy: Policy): void {
    for (const slots of this.byCallee.values()) {
      for (const slot of slots) {
        if (slot.callee && !maySpawn(policy, slot.binderName, slot.callee.name)) {
          slot.gone = `the policy no longer lets "${slot.binderName}" spawn "${slot.callee.name}" (permissions["${slot.binderName}"].spawn)`;
          slot.callee = null;
        }
      }
    }
  }

  private check(policy: Policy, plugin: LivePlugin, b: Binding): void {
    const who = `${describePlugin(plugin)}: binding ${describeBinding(b)}`;
    checkImport(plugin, b);
    if (this.loading.includes(b.plugin) || b.plugin === plugin.name) {
      throw new PolicyError(`${who}: would load "${b.plugin}" inside its own bindings (${[...this.loading, plugin.name, b.plugin].join(' -> ')}); bindings may not form a cycle`);
    }
    if (!maySpawn(policy, plugin.name, b.plugin)) {
      throw new PolicyError(`${who} is refused: "${plugin.name}" may not spawn "${b.plugin}" (permissions["${plugin.name}"].spawn)`);
    }
  }

  private slot(binder: LivePlugin, binding: Binding, callee: LivePlugin): BoundSlot {
    const slot: BoundSlot = {
      module: binding.module,
      name: binding.name,
      binding,
      binderId: binder.id,
      binderName: binder.name,
      callee,
      gone: '',
      call: (input) => this.host.call(slot, input),
    };
    const list = this.byCallee.get(callee.id);
    if (list) list.push(slot);
    else this.byCallee.set(callee.id, [slot]);
    return slot;
  }
}

/** The plugin imports the bound function, not from a linked module, with the type of a bound import. */
function checkImport(plugin: LivePlugin, b: Binding): void {
  const who = `${describePlugin(plugin)}: binding ${describeBinding(b)}`;
  if (plugin.linked.has(b.module)) throw new PolicyError(`${who}: "${b.module}" is a module linked into the plugin, not a host import`);
  const type = plugin.module.importType(b.module, b.name);
  if (type === null) {
    const imported = plugin.module.imports.includes(b.key);
    throw new PluginError(`${who}: the plugin ${imported ? `imports ${b.key}, but not as a function` : `does not import ${b.key}`}`);
  }
  if (type !== BOUND_SIGNATURE) {
    throw new PluginError(`${who}: the import is typed ${type}; a bound import must be ${BOUND_SIGNATURE} (an input block in, an output block out)`);
  }
}
