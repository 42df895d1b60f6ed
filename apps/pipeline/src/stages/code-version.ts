import packageJson from '../../package.json' with { type: 'json' };

/** The code version an artifact records (the pipeline package's); part of every stage's config hash. */
export const CODE_VERSION: string = packageJson.version;
