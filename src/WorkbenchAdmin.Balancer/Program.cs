using System.Runtime.InteropServices;
using WorkbenchAdmin.Model;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Platform;

// Installed as <program>.decider behind the fast client, it decides for <program> (whose pointer names the policy).
var programPath = FastClient.ProgramPathOf(Environment.ProcessPath ?? AppContext.BaseDirectory + BalancerProgram.Tag);
// What Workbench gave, byte for byte: an entry of RSTUDIO_NODES that is not UTF-8 is printed exactly as it came.
using var stdout = new RawTextWriter(DescriptorStream.StandardOutput());
using var stderr = new RawTextWriter(DescriptorStream.StandardError());

// The decision service, as its systemd unit runs it: answers this program's calls until TERM (or Ctrl+C).
if (args.Length > 0 && args[0] == DecisionService.ServeArgument && args.Skip(1).All(a => a == DecisionService.VerboseArgument))
{
    DecisionService service;
    try
    {
        service = DecisionService.Start(programPath, stderr, verbose: args.Length > 1);
    }
    catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException or System.Net.Sockets.SocketException)
    {
        stderr.WriteLine($"{BalancerProgram.Tag}: {e.Message}");
        return 1;
    }
    void StopOn(PosixSignalContext context)
    {
        context.Cancel = true;
        service.Stop();
    }
    using (PosixSignalRegistration.Create(PosixSignal.SIGTERM, StopOn))
    using (PosixSignalRegistration.Create(PosixSignal.SIGINT, StopOn))
    {
        service.Completion.Wait();
    }
    service.Dispose();
    return 0;
}

// The decision service's metrics (Prometheus' text format), for a textfile collector or a look by hand.
if (args is [DecisionMetrics.Argument])
{
    string socket;
    try { socket = ProgramSettings.Load(ProgramSettings.ConfigRootOf(programPath)).Balancer.ServiceSocket; }
    catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
    {
        stderr.WriteLine($"{BalancerProgram.Tag}: {e.Message}");
        return 1;
    }
    if (DecisionClient.Metrics(socket, TimeSpan.FromSeconds(5)) is not { } metrics)
    {
        stderr.WriteLine($"{BalancerProgram.Tag}: no decision service answers at {socket} (systemctl status workbenchadmin-balancer.socket).");
        return 1;
    }
    stdout.Write(metrics);
    stdout.Flush();
    return 0;
}

// The fast client asked the service and got no decision: this decides, as without a service.
var asked = FastClient.ParseAsked(args);
// Workbench's contract: no arguments, stdin closed, RSTUDIO_USERNAME and RSTUDIO_NODES in the environment.
if (args.Length > 0 && asked is null)
{
    stderr.WriteLine($"{BalancerProgram.Tag}: takes no arguments; Workbench passes RSTUDIO_USERNAME and RSTUDIO_NODES in the environment " +
                            $"(Get-WbBalancerPolicy shows its policy). {DecisionService.ServeArgument} [{DecisionService.VerboseArgument}] runs it as the decision service.");
    return BalancerProgram.BadInvocation;
}
return BalancerProgram.Run(new BalancerInvocation
{
    UserName = RawText.GetEnvironmentVariable("RSTUDIO_USERNAME"),
    Nodes = RawText.GetEnvironmentVariable("RSTUDIO_NODES"),
    ProgramPath = programPath,
    Out = stdout,
    Error = stderr,
    Syslog = true,
    Asked = asked,
});
