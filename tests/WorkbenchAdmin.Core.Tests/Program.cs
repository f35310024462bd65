namespace WorkbenchAdmin.Core.Tests;

/// <summary>
/// The test assembly's entry point (the test SDK's generated one does nothing): run with arguments, it is the worker
/// process of <see cref="Store.MultiProcessPlacementTests"/>. Test runners load the assembly and never call this.
/// </summary>
public static class Program
{
    public static int Main(string[] args) =>
        args is [Store.MultiProcessPlacementTests.WorkerVerb, ..] ? Store.MultiProcessPlacementTests.Worker(args[1..]) : 0;
}
