// An error the CLI prints as a plain message (no stack): the user can fix what it says.
export class CliError extends Error {
  override name = 'CliError';
}
