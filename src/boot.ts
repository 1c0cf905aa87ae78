import { ConfigError, type Config, loadConfig } from "./config.js";

/** Entry points' config loading: print every problem and exit 1 before anything starts. */
export function loadConfigOrExit(): Config {
  try {
    return loadConfig(process.env);
  } catch (err) {
    if (err instanceof ConfigError) {
      process.stderr.write(`${err.message}\n`);
      process.exit(1);
    }
    throw err;
  }
}
