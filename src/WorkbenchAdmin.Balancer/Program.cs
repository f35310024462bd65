using WorkbenchAdmin.Core.Balancing.Live;

// Workbench's contract: no arguments, stdin closed, RSTUDIO_USERNAME and RSTUDIO_NODES in the environment.
if (args.Length > 0)
{
    Console.Error.WriteLine($"{BalancerProgram.Tag}: takes no arguments; Workbench passes RSTUDIO_USERNAME and RSTUDIO_NODES in the environment " +
                            "(Get-WbBalancerPolicy shows its policy).");
    return BalancerProgram.BadInvocation;
}
return BalancerProgram.Run(new BalancerInvocation
{
    UserName = Environment.GetEnvironmentVariable("RSTUDIO_USERNAME"),
    Nodes = Environment.GetEnvironmentVariable("RSTUDIO_NODES"),
    ProgramPath = Environment.ProcessPath ?? AppContext.BaseDirectory + BalancerProgram.Tag,
    Out = Console.Out,
    Error = Console.Error,
    Syslog = true,
});
