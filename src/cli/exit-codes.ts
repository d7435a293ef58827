/** The CLI's exit codes, as `--help` lists them. */
export const EXIT_OK = 0;
export const EXIT_FAILURE = 1;
/** Bad flags or environment variables, a missing or wrong confirmation. */
export const EXIT_USAGE = 2;
