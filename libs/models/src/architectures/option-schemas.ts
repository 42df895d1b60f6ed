/**
 * zod pieces shared by the model option schemas. Every schema is `.strict()`
 * (an unknown key is an error) with explicit defaults.
 */
import { z } from 'zod';

/** `[height, width, channels]` of one input image, positive integers. */
export const imageShapeSchema = z.tuple([z.int().positive(), z.int().positive(), z.int().positive()]);

/** The run seed every layer's seed derives from (any integer). */
export const seedSchema = z.int();

/** Number of output classes (logits; the models have no softmax layer). */
export const numClassesSchema = z.int().min(1);

/**
 * The kernels' starting values: `heNormal` (He et al. 2015, seeded per layer) for a model
 * used as built, or `zeros` — nothing drawn — when every kernel is about to be overwritten
 * (a data-dependent init of every layer): tfjs draws He-normal weights in JavaScript,
 * seconds for CaffeNet's 61 M (docs/RESULTS.md, issue 16). Biases start at 0 either way.
 */
export const initialWeightsSchema = z.enum(['heNormal', 'zeros']).default('heNormal');

export type InitialWeights = z.output<typeof initialWeightsSchema>;
