using System.Diagnostics;
using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Testing;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// The balancer program's latency per invocation, process start included, as Workbench pays it: the packaged
/// (NativeAOT) program installed beside a policy, on a 16-node cluster whose store is a throwaway PostgreSQL
/// and whose status page is a real loopback HTTP listener listing 16 nodes. Side by side, in the same run:
/// a bare /bin/true spawn (the floor of any program), the program again with its decision service running (the
/// installed program run with --serve, as its systemd unit runs it), the same decision logic run in this process
/// (status page and store read included), and the decision alone. Target: p99 at most 20 ms. A timing harness, not a test.
/// Run: dotnet run -c Release --project tests/WorkbenchAdmin.Benchmarks -- balancer out/WorkbenchAdmin/0.1.0/bin/wbadmin-balancer
/// </summary>
public static class BalancerLatency
{
    private const int NodeCount = 16;
    private const int Runs = 400;

    public static void Run(string packagedProgram)
    {
        if (!File.Exists(packagedProgram)) throw new FileNotFoundException("Stage the package first (build.ps1 -Task Package).", packagedProgram);
        using var server = ThrowawayPostgres.Start();
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = server.ConnectionString() });
        var store = new ClusterStore(target);
        store.Initialize();
        var entries = new List<string>();
        for (var i = 1; i <= NodeCount; i++)
        {
            store.ReportNode(new NodeIdentity($"node{i}.bench", 8787, $"10.9.0.{i}", "http", "key", false),
                new NodeReport { Load1 = 0.4, Load5 = 0.5, Load15 = 0.6, Cores = 8 }, mustExist: false, TimeSpan.FromHours(1));
            entries.Add($"node{i}.bench:8787");
        }
        var nodes = string.Join(',', entries);
        var page = new StringBuilder();
        for (var i = 1; i <= NodeCount; i++)
        {
            page.Append($"node{i}.bench:8787 -  Load: 0.4, 0.5, 0.6\n");
            for (var s = 0; s < i % 5; s++) page.Append($"   {1000 + i * 10 + s} - user{s}\n");
        }
        using var status = new StatusPageServer(page.ToString());

        var dir = Directory.CreateTempSubdirectory("wbadmin-balancer-bench-");
        try
        {
            var etc = Directory.CreateDirectory(Path.Combine(dir.FullName, "etc")).FullName;
            var program = Path.Combine(Directory.CreateDirectory(Path.Combine(dir.FullName, "bin")).FullName, "rserver-balancer");
            File.Copy(packagedProgram, program);
            File.SetUnixFileMode(program, (UnixFileMode)0b111_101_101);
            File.WriteAllText(ProgramSettings.PointerPathOf(program), $"config-root={etc}\n");
            var cs = new Npgsql.NpgsqlConnectionStringBuilder(target.ConnectionString);
            File.WriteAllText(Path.Combine(etc, "database.conf"),
                $"provider=postgresql\nhost={cs.Host}\nport={cs.Port}\ndatabase={cs.Database}\nusername={cs.Username}\npassword={cs.Password}\n");
            var socket = Path.Combine(dir.FullName, "run", "balancer.sock");
            File.WriteAllText(Path.Combine(etc, "workbenchadmin.conf"),
                $"[balancer]\nmethod=bounded-hash\nmax-sessions-per-node=100\nstatus-url={status.Uri}\nstate-directory={Path.Combine(dir.FullName, "state")}\n" +
                $"service-socket={socket}\n");

            Console.WriteLine($"{NodeCount} nodes, {Runs} runs each, policy bounded-hash with live data (status page + store)");
            Console.WriteLine("| what | p50 ms | p99 ms | max ms |");
            Console.WriteLine("|---|---:|---:|---:|");
            var bare = Spawn("/bin/true", nodes);
            Print("/bin/true spawn (the floor)", bare);
            var installed = Spawn(program, nodes);
            Print("wbadmin-balancer (NativeAOT), process start included", installed);
            double[] served;
            using (var service = Process.Start(new ProcessStartInfo(program, [DecisionService.ServeArgument]) { RedirectStandardError = true })!)
            {
                var watch = Stopwatch.StartNew();
                while (!File.Exists(socket) && watch.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
                served = Spawn(program, nodes);
                Process.Start("kill", ["-TERM", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                service.WaitForExit();
                Console.Error.Write(service.StandardError.ReadToEnd());
            }
            Print("wbadmin-balancer with its decision service running (--serve)", served);
            var inProcess = Time(u => BalancerProgram.Run(new BalancerInvocation
            {
                UserName = u, Nodes = nodes, ProgramPath = program, Out = TextWriter.Null, Error = TextWriter.Null,
            }));
            Print("the same decision in this process (reads included)", inProcess);
            var set = new CandidateSet(entries.Select(NodeCandidate.Parse));
            var engine = new BalanceEngine();
            var policy = BalancingPolicies.Create("bounded-hash");
            var decision = Time(u => engine.Decide(policy, u, set));
            Print("the decision alone (in memory)", decision);
            Console.WriteLine($"ratio program/bare spawn p50 {installed[Runs / 2] / bare[Runs / 2]:0.0}x, p99 {P99(installed) / P99(bare):0.0}x");
            Console.WriteLine($"ratio program with service/bare spawn p50 {served[Runs / 2] / bare[Runs / 2]:0.0}x, p99 {P99(served) / P99(bare):0.0}x");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    private static double P99(double[] sorted) => sorted[(int)(sorted.Length * 0.99) - 1];

    private static void Print(string what, double[] sorted) =>
        Console.WriteLine($"| {what} | {sorted[sorted.Length / 2]:0.000} | {P99(sorted):0.000} | {sorted[^1]:0.000} |");

    private static double[] Spawn(string file, string nodes) => Time(user =>
    {
        var start = new ProcessStartInfo(file) { UseShellExecute = false, RedirectStandardInput = true, RedirectStandardOutput = true, RedirectStandardError = true };
        start.Environment["RSTUDIO_USERNAME"] = user;
        start.Environment["RSTUDIO_NODES"] = nodes;
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var error = process.StandardError.ReadToEndAsync();
        process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        if (process.ExitCode != 0) throw new InvalidOperationException($"{file} exited {process.ExitCode}: {error.Result}");
    });

    private static double[] Time(Action<string> call)
    {
        for (var i = 0; i < 20; i++) call($"warm{i}");
        var times = new double[Runs];
        for (var i = 0; i < Runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            call($"user{i}");
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return times;
    }
}
