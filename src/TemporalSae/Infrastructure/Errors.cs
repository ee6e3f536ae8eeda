namespace TemporalSae.Infrastructure;

/// <summary>Bad input from the user (manifest, file, option): the CLI prints the message and exits with 2.</summary>
public class InvalidInputException(string message) : Exception(message);

/// <summary>A run that cannot produce a meaningful result (no steps, NaN loss, all latents dead...): exit code 1.</summary>
public class RunFailedException(string message) : Exception(message);
