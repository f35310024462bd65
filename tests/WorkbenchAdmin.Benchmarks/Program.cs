using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Diagnosers;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Running;
using BenchmarkDotNet.Toolchains.InProcess.Emit;

// In-process: this BenchmarkDotNet release predates net10.0, so it cannot generate a project for it;
// running in the host process measures the same JIT-compiled code.
var config = DefaultConfig.Instance
    .AddJob(Job.Default.WithToolchain(InProcessEmitToolchain.Instance).WithWarmupCount(3).WithIterationCount(10))
    .AddDiagnoser(MemoryDiagnoser.Default)
    .WithOptions(ConfigOptions.DisableOptimizationsValidator);
if (args is ["placement-worker", var callers, var startAt, var prefix])
    WorkbenchAdmin.Benchmarks.PlacementLoad.Worker(int.Parse(callers), long.Parse(startAt), prefix);
else if (args is ["placement", ..])
    WorkbenchAdmin.Benchmarks.PlacementLoad.Run();
else if (args is ["balancer", var program])
    WorkbenchAdmin.Benchmarks.BalancerLatency.Run(program);
else if (args is ["balancer", var program2, var nodeCount])
    WorkbenchAdmin.Benchmarks.BalancerLatency.Run(program2, int.Parse(nodeCount, System.Globalization.CultureInfo.InvariantCulture));
else if (args is ["import", .. var rest])
    WorkbenchAdmin.Benchmarks.ImportTime.Run(Directory.GetCurrentDirectory(), rest.FirstOrDefault());
else
    BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args, config);

public partial class Program;
