/**
 * Turning the names and configs that tfjs writes into model.json back into live
 * activation and initializer objects, through tfjs's own serialization registry
 * (the one `tf.serialization.registerClass` fills), so custom layers serialize
 * exactly like the built-in ones.
 */
import * as tf from '@tensorflow/tfjs';
import { ConfigError } from '@ddinit/core';

/**
 * The part of a tfjs activation object that layers use: `apply` maps a
 * pre-activation tensor to the activation, `getClassName` is its serialized name
 * (`relu`, `linear`, …).
 */
export interface ActivationFunction {
  apply(x: tf.Tensor, axis?: number): tf.Tensor;
  getClassName(): string;
}

/** A tfjs initializer (what `tf.initializers.heNormal()` returns). */
export type Initializer = ReturnType<typeof tf.initializers.zeros>;

/** How an initializer is written in a layer config: tfjs's `{className, config}` form. */
export interface InitializerConfig {
  className: string;
  config: tf.serialization.ConfigDict;
}

function registeredClass(
  className: string,
): [tf.serialization.SerializableConstructor<tf.serialization.Serializable>, tf.serialization.FromConfigMethod<tf.serialization.Serializable>] | undefined {
  const entry = tf.serialization.SerializationMap.getMap().classNameMap[className];
  return entry as ReturnType<typeof registeredClass>;
}

/** Serialized names of the activations tfjs registers (`relu`, `linear`, `tanh`, …). */
const ACTIVATION_NAMES = [
  'elu',
  'selu',
  'relu',
  'relu6',
  'linear',
  'sigmoid',
  'hardSigmoid',
  'softplus',
  'softsign',
  'tanh',
  'softmax',
  'logSoftmax',
  'gelu',
  'gelu_new',
  'mish',
  'swish',
] as const;

/** The activation names layers accept. */
export type ActivationName = (typeof ACTIVATION_NAMES)[number];

/**
 * The tfjs activation object registered under `name`.
 *
 * @throws ConfigError for a name tfjs does not know; the message lists the valid names.
 * @example activationByName('relu').apply(x) // same as tf.relu(x)
 */
export function activationByName(name: string, where = 'activation'): ActivationFunction {
  const entry = (ACTIVATION_NAMES as readonly string[]).includes(name) ? registeredClass(name) : undefined;
  if (entry === undefined) {
    throw new ConfigError('unknown activation', { where, expected: `one of ${ACTIVATION_NAMES.join(', ')}`, actual: name });
  }
  const [cls] = entry;
  return new (cls as unknown as new () => ActivationFunction)();
}

/** The `{className, config}` form of an initializer, as tfjs writes it into model.json. */
export function serializeInitializer(initializer: Initializer): InitializerConfig {
  return { className: initializer.getClassName(), config: initializer.getConfig() };
}

/**
 * An initializer from an instance, a `tf.initializers` factory name (`heNormal`,
 * `zeros`) or the `{className, config}` form found in model.json.
 *
 * @throws ConfigError for an unknown name or class.
 */
export function initializerFrom(value: Initializer | InitializerConfig | string, where = 'initializer'): Initializer {
  if (typeof value === 'string') {
    const factory = (tf.initializers as unknown as Record<string, ((args?: object) => Initializer) | undefined>)[value];
    if (typeof factory !== 'function') {
      throw new ConfigError('unknown initializer', {
        where,
        expected: `a tf.initializers name (${Object.keys(tf.initializers).join(', ')})`,
        actual: value,
      });
    }
    return factory({});
  }
  if (value instanceof tf.serialization.Serializable) return value as Initializer;
  const entry = registeredClass(value.className);
  if (entry === undefined) {
    throw new ConfigError('unknown initializer class', { where, expected: 'a class registered with tfjs', actual: value.className });
  }
  const [cls, fromConfig] = entry;
  return fromConfig(cls, value.config ?? {}) as Initializer;
}
