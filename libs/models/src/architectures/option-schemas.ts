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
