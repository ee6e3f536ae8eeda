using System.CommandLine;
using TemporalSae.Cli;

return CliApp.Run(args, Console.Out, Console.Error);
