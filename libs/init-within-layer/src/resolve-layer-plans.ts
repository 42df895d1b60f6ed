/**
 * Which weight source, β and skip flag each parameter layer gets, from the global
 * options and the per-layer rules (later rules win field by field).
 */
import { ConfigError } from '@ddinit/core';
import type { ParameterLayer } from '@ddinit/models';
import type { LayerRule, WithinMethod, WithinLayerOptions } from './within-layer-options';

export interface LayerPlan {
  layer: ParameterLayer;
  method: WithinMethod;
  beta: number;
  /** Keep the layer's weights (a rule's `skip`, or before `initializeFrom`). */
  skip: boolean;
}

function globToRegExp(glob: string): RegExp {
  const escaped = glob
    .replace(/[.+^${}()|[\]\\]/g, '\\$&')
    .replace(/\*/g, '.*')
    .replace(/\?/g, '.');
  return new RegExp(`^${escaped}$`);
}

/** A predicate on layer names for a rule's `match` (exact, glob, or `/regex/`). */
export function nameMatcher(match: string): (name: string) => boolean {
  if (match.length > 2 && match.startsWith('/') && match.endsWith('/')) {
    let pattern: RegExp;
    try {
      pattern = new RegExp(match.slice(1, -1));
    } catch (cause) {
      throw new ConfigError('invalid regular expression in a layer rule', { where: 'within-layer options layers', actual: match, cause });
    }
    return (name) => pattern.test(name);
  }
  if (/[*?]/.test(match)) {
    const pattern = globToRegExp(match);
    return (name) => pattern.test(name);
  }
  return (name) => name === match;
}

function ruleMatches(rule: LayerRule, layer: ParameterLayer, byName: (name: string) => boolean): boolean {
  return (rule.kind === undefined || rule.kind === layer.kind) && (rule.match === undefined || byName(layer.name));
}

/**
 * One plan per parameter layer, in the order given.
 *
 * @throws ConfigError when a rule's `match` or `initializeFrom` names no layer of the
 *   model (the message names it and lists the layers).
 * @example
 * resolveLayerPlans(parameterLayers(model), parseWithinLayerOptions({ layers: [{ match: 'fc*', method: 'orthogonal' }] }));
 */
export function resolveLayerPlans(layers: readonly ParameterLayer[], options: WithinLayerOptions): LayerPlan[] {
  const names = layers.map((l) => l.name);
  const matchers = options.layers.map((rule) => (rule.match === undefined ? () => true : nameMatcher(rule.match)));
  options.layers.forEach((rule, i) => {
    if (!layers.some((layer) => ruleMatches(rule, layer, matchers[i]))) {
      throw new ConfigError('a layer rule matches no parameter layer', {
        where: `within-layer options layers[${i}]`,
        expected: `a name, glob or /regex/ of one of ${names.join(', ')}`,
        actual: rule.match ?? `kind ${rule.kind}`,
      });
    }
  });
  let firstInitialized = 0;
  if (options.initializeFrom !== null) {
    firstInitialized = names.indexOf(options.initializeFrom);
    if (firstInitialized < 0) {
      throw new ConfigError('initializeFrom names no parameter layer', {
        where: 'within-layer options initializeFrom',
        expected: `one of ${names.join(', ')}`,
        actual: options.initializeFrom,
      });
    }
  }
  return layers.map((layer, index) => {
    const plan: LayerPlan = { layer, method: options.method, beta: options.beta, skip: index < firstInitialized };
    options.layers.forEach((rule, i) => {
      if (!ruleMatches(rule, layer, matchers[i])) return;
      if (rule.method !== undefined) plan.method = rule.method;
      if (rule.beta !== undefined) plan.beta = rule.beta;
      if (rule.skip !== undefined) plan.skip = rule.skip;
    });
    return plan;
  });
}
