using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Store;
using WorkbenchAdmin.Testing;

namespace WorkbenchAdmin.Benchmarks;

/// <summary>
/// The balancer program's latency and CPU per invocation, process start included, as Workbench pays it: the packaged
/// programs laid out as Install-WbBalancer lays them out (the static client at the path, the NativeAOT decider beside
/// it as <c>.decider</c>, the pointer), on a cluster whose store is a throwaway PostgreSQL and whose status page is a
/// real loopback HTTP listener. Side by side, in the same run: a bare /bin/true spawn (the floor of any program), the
/// installed program with its decision service running as its systemd unit runs it (socket-activated through
/// systemd-socket-activate, when installed), the installed program with no service (the client hands every call to the
/// decider; the store's view kept between calls, as by default), the decider alone, the installed program with no service
/// reading the store for every call (store-max-age-ms=0), the same decision logic run in this process, and the decision
/// alone. Targets (issue
/// 23), as ratios to /bin/true in the same run: with the service p50 at most 2x and p99 at most 3x and CPU at most
/// 3 ms per call; with no service p50 at most 6x. A timing harness, not a test.
/// Run: dotnet run -c Release --project tests/WorkbenchAdmin.Benchmarks -- balancer out/WorkbenchAdmin/0.1.0/bin/wbadmin-balancer [nodes]
/// </summary>
public static class BalancerLatency
{
    private const int Runs = 400;

    public static void Run(string packagedProgram, int nodeCount = 5)
    {
        if (!File.Exists(packagedProgram)) throw new FileNotFoundException("Stage the package first (build.ps1 -Task Package).", packagedProgram);
        var packagedClient = Path.Combine(Path.GetDirectoryName(packagedProgram)!, FastClient.FileName);
        if (!File.Exists(packagedClient)) throw new FileNotFoundException("The package has no client: stage it again (build.ps1 -Task Package).", packagedClient);
        using var server = ThrowawayPostgres.Start();
        var target = DatabaseTarget.Resolve(new DatabaseRequest { ConnectionString = server.ConnectionString() });
        var store = new ClusterStore(target);
        store.Initialize();
        var entries = new List<string>();
        for (var i = 1; i <= nodeCount; i++)
        {
            store.ReportNode(new NodeIdentity($"node{i}.bench", 8787, $"10.9.0.{i}", "http", "key", false),
                new NodeReport { Load1 = 0.4, Load5 = 0.5, Load15 = 0.6, Cores = 8 }, mustExist: false, TimeSpan.FromHours(1));
            entries.Add($"node{i}.bench:8787");
        }
        var nodes = string.Join(',', entries);
        var page = new StringBuilder();
        for (var i = 1; i <= nodeCount; i++)
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
            var decider = program + FastClient.DeciderSuffix;
            File.Copy(packagedClient, program);
            File.Copy(packagedProgram, decider);
            foreach (var file in new[] { program, decider }) File.SetUnixFileMode(file, (UnixFileMode)0b111_101_101);
            File.WriteAllText(ProgramSettings.PointerPathOf(program), $"config-root={etc}\n");
            var cs = new Npgsql.NpgsqlConnectionStringBuilder(target.ConnectionString);
            File.WriteAllText(Path.Combine(etc, "database.conf"),
                $"provider=postgresql\nhost={cs.Host}\nport={cs.Port}\ndatabase={cs.Database}\nusername={cs.Username}\npassword={cs.Password}\n");
            var socket = Path.Combine(dir.FullName, "run", "balancer.sock");
            Directory.CreateDirectory(Path.GetDirectoryName(socket)!, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
            void WritePolicy(string extra) => File.WriteAllText(Path.Combine(etc, "workbenchadmin.conf"),
                $"[balancer]\nmethod=bounded-hash\nmax-sessions-per-node=100\nstatus-url={status.Uri}\nstate-directory={Path.Combine(dir.FullName, "state")}\n" +
                $"service-socket={socket}\n{extra}");
            WritePolicy("");

            Console.WriteLine($"{nodeCount} nodes, {Runs} runs each, policy bounded-hash with live data (status page + store), {Environment.ProcessorCount} cores, load {File.ReadAllText("/proc/loadavg").Split(' ')[0]}");
            Console.WriteLine("| what | p50 ms | p99 ms | max ms | CPU ms/call |");
            Console.WriteLine("|---|---:|---:|---:|---:|");
            var bare = Spawn("/bin/true", nodes);
            Print("/bin/true spawn (the floor)", bare);
            const string activator = "/usr/bin/systemd-socket-activate";
            var activated = File.Exists(activator);
            Timings served;
            // As workbenchadmin-balancer.socket runs it: systemd holds the socket and starts the decider on the first call.
            using (var service = Process.Start(activated
                       ? new ProcessStartInfo(activator, ["-l", socket, decider, DecisionService.ServeArgument]) { RedirectStandardError = true }
                       : new ProcessStartInfo(decider, [DecisionService.ServeArgument]) { RedirectStandardError = true })!)
            {
                var errors = service.StandardError.ReadToEndAsync();
                var watch = Stopwatch.StartNew();
                while (!File.Exists(socket) && watch.Elapsed < TimeSpan.FromSeconds(10)) Thread.Sleep(10);
                served = Spawn(program, nodes);
                Process.Start("kill", ["-TERM", service.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)])!.WaitForExit();
                service.WaitForExit();
                Console.Error.Write(errors.Result);
            }
            File.Delete(socket);
            Print($"installed program with its decision service ({(activated ? "socket-activated" : "--serve")})", served);
            var alone = Spawn(program, nodes);
            Print("installed program, no service (client, then the decider; the store's view kept for store-max-age-ms, 1000)", alone);
            var deciderAlone = Spawn(decider, nodes);
            Print("the decider alone (Install-WbBalancer -NoService; the view kept)", deciderAlone);
            WritePolicy("store-max-age-ms=0\n");
            var storeEveryCall = Spawn(program, nodes);
            Print("installed program, no service, the store read for every call (store-max-age-ms=0)", storeEveryCall);
            WritePolicy("");
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
            Ratio("with the service", served, bare, "targets p50 <= 2x, p99 <= 3x, CPU <= 3 ms");
            Ratio("no service", alone, bare, "target p50 <= 6x");
            Ratio("decider alone", deciderAlone, bare, "");
            Ratio("no service, the store read for every call", storeEveryCall, bare, "a PostgreSQL connection per call");
        }
        finally
        {
            dir.Delete(recursive: true);
        }
    }

    /// <summary>Wall times in ms, sorted, and the mean CPU (user + system) per call of the spawned programs.</summary>
    private sealed record Timings(double[] Wall, double CpuMs);

    private static double P50(double[] sorted) => sorted[sorted.Length / 2];
    private static double P99(double[] sorted) => sorted[(int)(sorted.Length * 0.99) - 1];

    private static void Print(string what, Timings t) =>
        Console.WriteLine($"| {what} | {P50(t.Wall):0.000} | {P99(t.Wall):0.000} | {t.Wall[^1]:0.000} | {(double.IsNaN(t.CpuMs) ? "" : t.CpuMs.ToString("0.00", System.Globalization.CultureInfo.InvariantCulture))} |");

    private static void Ratio(string what, Timings t, Timings bare, string target) =>
        Console.WriteLine($"ratio {what} / bare spawn: p50 {P50(t.Wall) / P50(bare.Wall):0.0}x, p99 {P99(t.Wall) / P99(bare.Wall):0.0}x, " +
                          $"CPU {t.CpuMs:0.00} ms ({t.CpuMs / bare.CpuMs:0.0}x){(target.Length > 0 ? $" ({target})" : "")}");

    private static Timings Spawn(string file, string nodes)
    {
        var before = ChildrenCpuMs();
        var wall = Time(user =>
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
        }).Wall;
        // Every spawn is reaped by now (WaitForExit): their CPU is in this process's children's account.
        return new Timings(wall, (ChildrenCpuMs() - before) / (Runs + Warmup));
    }

    private const int Warmup = 20;

    private static Timings Time(Action<string> call)
    {
        for (var i = 0; i < Warmup; i++) call($"warm{i}");
        var times = new double[Runs];
        for (var i = 0; i < Runs; i++)
        {
            var started = Stopwatch.GetTimestamp();
            call($"user{i}");
            times[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }
        Array.Sort(times);
        return new Timings(times, double.NaN);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RUsage
    {
        public long UserSeconds, UserMicroseconds, SystemSeconds, SystemMicroseconds;
        private unsafe fixed long _rest[14];
    }

    [DllImport("libc", EntryPoint = "getrusage", SetLastError = true)]
    private static extern int GetRUsage(int who, out RUsage usage);

    /// <summary>CPU (user + system) of the reaped children of this process so far (RUSAGE_CHILDREN).</summary>
    private static double ChildrenCpuMs()
    {
        const int children = -1;
        if (GetRUsage(children, out var u) != 0) return double.NaN;
        return (u.UserSeconds + u.SystemSeconds) * 1000.0 + (u.UserMicroseconds + u.SystemMicroseconds) / 1000.0;
    }
}
