using Veltrix.Cli;
using Veltrix.Cli.Launch;

Posix.UnignoreInterrupt();
return await Commands.RunAsync(args);
