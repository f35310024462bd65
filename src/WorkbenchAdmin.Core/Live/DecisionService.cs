using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net.Sockets;
using Npgsql;
using WorkbenchAdmin.Core.Platform;

using WorkbenchAdmin.Core.Balancing;

namespace WorkbenchAdmin.Core.Live;

/// <summary>
/// <c>rserver-balancer --serve</c>: the balancer program as a long-lived service, run by its systemd unit on each
/// node. It answers the program's calls over a root-only Unix socket with exactly the program's own logic
/// (<see cref="BalancerProgram.Run"/>: the policy read afresh, the status page, the store, the drain record),
/// but with the store's connection kept open: a new PostgreSQL connection per call (a server process forked,
/// SCRAM) is most of what a call costs otherwise. The program falls back to deciding itself whenever the
/// service is absent, slow or wrong, so stopping the service never stops sessions from starting.
/// </summary>
public sealed class DecisionService : IDisposable
{
    public const string ServeArgument = "--serve";
    public const string VerboseArgument = "--verbose";
    private static readonly TimeSpan ClientTimeout = TimeSpan.FromSeconds(5);

    private readonly Socket _listener;
    private readonly string _programPath;
    private readonly TextWriter _log;
    private readonly bool _verbose;
    private readonly CancellationTokenSource _stop = new();
    private readonly CountdownEvent _inFlight = new(1);
    private readonly ConcurrentDictionary<string, Lazy<NpgsqlDataSource>> _dataSources = new(StringComparer.Ordinal);
    private readonly object _logLock = new();
    private int _served;
    private readonly DecisionMetrics _metrics = new();
    /// <summary>The store's view, kept every half max age for the programs that decide while the service is down.</summary>
    private readonly StoreSnapshot _snapshot = new(TimeProvider.System);
    private int _stopped;

    private DecisionService(Socket listener, string socketPath, string programPath, TextWriter log, bool verbose)
    {
        _listener = listener;
        SocketPath = socketPath;
        _programPath = programPath;
        _log = log;
        _verbose = verbose;
        Completion = Task.Run(AcceptLoop);
    }

    public string SocketPath { get; }
    /// <summary>Calls answered so far.</summary>
    public int Served => Volatile.Read(ref _served);
    /// <summary>What it has decided since it started (<see cref="DecisionMetrics.Render"/>: Prometheus' text).</summary>
    public DecisionMetrics Metrics => _metrics;
    /// <summary>Ends when the service has stopped and every call in progress has been answered.</summary>
    public Task Completion { get; }

    /// <summary>
    /// Listens at the policy's <c>service-socket</c>, in a directory only root (or we) can enter when it makes one.
    /// Refuses to start where another service answers, where the path is not a socket, or where others could
    /// change the directory.
    /// </summary>
    public static DecisionService Start(string programPath, TextWriter log, bool verbose = false)
    {
        if (!OperatingSystem.IsLinux()) throw new PlatformNotSupportedException("The decision service runs on Linux, as Workbench does.");
        var policy = ProgramSettings.Load(ProgramSettings.ConfigRootOf(programPath)).Balancer;
        var path = policy.ServiceSocket;
        if (SocketActivation.TakeListener() is { } inherited)
        {
            // systemd made the socket (its unit says where and who may connect) and keeps it when the service stops.
            var at = inherited.LocalEndPoint?.ToString() ?? path;
            RaiseMinThreads();
            var activated = new DecisionService(inherited, at, programPath, log, verbose);
            activated.Log(Syslog.Severity.Info, $"serving decisions at {at} (socket-activated) for {programPath}" +
                                                (at == path ? "" : $"; the policy's service-socket is {path}, where the program asks"));
            return activated;
        }
        var directory = Path.GetDirectoryName(path)!;
        if (!Directory.Exists(directory))
            Directory.CreateDirectory(directory, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        if (TrustedPath.WhyUntrusted(directory) is { } why)
            throw new WbException("ServiceSocketUnsafe", WbErrorCategory.SecurityError, $"not serving at {path}: {why}.", path);
        RemoveStaleSocket(path);
        RaiseMinThreads();

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
            listener.Listen(128);
            var service = new DecisionService(listener, path, programPath, log, verbose);
            service.Log(Syslog.Severity.Info, $"serving decisions at {path} for {programPath}");
            return service;
        }
        catch
        {
            listener.Dispose();
            throw;
        }
    }

    private static void RaiseMinThreads()
    {
        // Each call in progress holds a pool thread on its store read (Npgsql's synchronous API, bounded by the
        // deadline): start with enough for a burst of logins, rather than let the pool add one a second.
        ThreadPool.GetMinThreads(out var workers, out var io);
        ThreadPool.SetMinThreads(Math.Max(workers, 64), io);
    }

    private static void RemoveStaleSocket(string path)
    {
        var status = UnixFile.TryStat(path, followLinks: false);
        if (status is null) return;
        if (status.Value.Type != UnixFileType.Socket)
            throw new WbException("ServiceSocketInUse", WbErrorCategory.ResourceExists, $"not serving at {path}: it exists and is not a socket.", path);
        using var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            probe.Connect(new UnixDomainSocketEndPoint(path));
        }
        catch (SocketException)
        {
            File.Delete(path); // a socket left by a service that ended without removing it
            return;
        }
        throw new WbException("ServiceSocketInUse", WbErrorCategory.ResourceExists, $"not serving at {path}: another decision service answers there.", path);
    }

    private async Task AcceptLoop()
    {
        while (!_stop.IsCancellationRequested)
        {
            Socket client;
            try { client = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false); }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException) { break; }
            catch (SocketException e)
            {
                Log(Syslog.Severity.Warning, $"accept failed: {e.Message}");
                continue;
            }
            _inFlight.AddCount();
            // A thread of its own: a call waits (bounded by the policy's deadline) on its reads.
            _ = Task.Factory.StartNew(() => Answer(client), TaskCreationOptions.LongRunning);
        }
        _inFlight.Signal();
        var finished = await Task.Run(() => _inFlight.Wait(ClientTimeout)).ConfigureAwait(false);
        // Once the calls in progress have finished, so the count includes them; else it says how many were left.
        Log(Syslog.Severity.Info, $"stopped serving at {SocketPath} after {Served} calls" + (finished ? "" : $", {_inFlight.CurrentCount} still running"));
    }

    private void Answer(Socket client)
    {
        try
        {
            using (client)
            using (var timeout = new CancellationTokenSource(ClientTimeout))
            {
                var started = Stopwatch.GetTimestamp();
                var message = DecisionProtocol.ReadToEnd(client, timeout.Token).GetAwaiter().GetResult();
                // Get-WbBalancerPolicy asking whether the service is up: answered, but not a call.
                var ping = message is not null && DecisionProtocol.IsPing(message);
                // Metrics: answered like a ping, never counted as a call.
                if (!ping && message is not null && message.AsSpan().SequenceEqual(DecisionMetrics.Request.Span))
                {
                    client.SendAsync(DecisionProtocol.Answer(0, DecisionMetrics.Ready, _metrics.Render()), SocketFlags.None, timeout.Token).AsTask().GetAwaiter().GetResult();
                    client.Shutdown(SocketShutdown.Both);
                    return;
                }
                var (answer, decided) = ping ? (DecisionProtocol.Answer(0, DecisionProtocol.Ready, ""), null) : Decide(message);
                client.SendAsync(answer, SocketFlags.None, timeout.Token).AsTask().GetAwaiter().GetResult();
                // Counted before the shutdown that ends the caller's read: once it has its answer, the count includes it.
                if (!ping) Interlocked.Increment(ref _served);
                client.Shutdown(SocketShutdown.Both);
                if (_verbose && decided is not null)
                    Write($"{decided} ({Stopwatch.GetElapsedTime(started).TotalMilliseconds:0.0} ms)");
            }
        }
        catch (Exception e) when (e is SocketException or OperationCanceledException or IOException)
        {
            // The program gave up waiting (it then decides itself): nothing to answer any more.
            if (_verbose) Write($"a call ended unanswered: {e.Message}");
        }
        catch (Exception e)
        {
            Log(Syslog.Severity.Error, $"a call failed: {e}");
        }
        finally
        {
            _inFlight.Signal();
        }
    }

    /// <summary>The answer to one request, by the program's own logic, and what was decided (for --verbose).</summary>
    private (byte[] Answer, string? Decided) Decide(byte[]? message)
    {
        if ((message is null ? null : DecisionProtocol.ParseRequest(message)) is not { } r)
            return (DecisionProtocol.Answer(BalancerProgram.BadInvocation, "", $"{BalancerProgram.Tag}: the decision service could not read the request\n"), null);
        var output = new StringWriter();
        var error = new StringWriter();
        var outcome = new DecisionOutcome();
        var started = Stopwatch.GetTimestamp();
        var exit = BalancerProgram.Run(new BalancerInvocation
        {
            UserName = r.User, Nodes = r.Nodes, ProgramPath = _programPath, Out = output, Error = error, Syslog = true,
            AskService = false, ForWaitingClient = true, DataSource = DataSourceFor, Outcome = outcome, Snapshot = _snapshot,
        });
        _metrics.Record(outcome, exit, output.ToString().TrimEnd('\n'), Stopwatch.GetElapsedTime(started));
        return (DecisionProtocol.Answer(exit, output.ToString(), error.ToString()),
                $"{r.User} -> {(exit == 0 ? output.ToString().TrimEnd('\n') : $"exit {exit}")}");
    }

    /// <summary>
    /// The service's own data source for a target (one per connection string, as the policy may name another
    /// store after an edit): one connection kept open between calls, so a call after a quiet hour does not pay for
    /// a new one, and at most <see cref="MaxConnections"/>, so a burst of logins on every node cannot take all of
    /// the server's connections (a call that waits too long falls back at its deadline).
    /// </summary>
    private NpgsqlDataSource DataSourceFor(Store.DatabaseTarget target) =>
        _dataSources.GetOrAdd(target.ConnectionString, cs => new Lazy<NpgsqlDataSource>(() =>
            Store.DataSources.BuildWithoutTypeLoading(new NpgsqlConnectionStringBuilder(cs) { MinPoolSize = 1, MaxPoolSize = MaxConnections, ApplicationName = ApplicationName }.ConnectionString))).Value;

    internal const int MaxConnections = 8;
    /// <summary>How its connections show in pg_stat_activity.</summary>
    public const string ApplicationName = BalancerProgram.Tag + " (decision service)";

    /// <summary>Stops listening, removing the socket, and lets calls in progress finish.</summary>
    public void Stop()
    {
        if (Interlocked.Exchange(ref _stopped, 1) != 0) return;
        _stop.Cancel();
        _listener.Dispose(); // .NET removes the socket file a listener bound when it closes (the tests check it is gone)
    }

    private void Log(Syslog.Severity severity, string message)
    {
        Write(message);
        Syslog.Write(BalancerProgram.Tag, severity, message);
    }

    private void Write(string message)
    {
        lock (_logLock) _log.WriteLine($"{BalancerProgram.Tag}: {message}");
    }

    public void Dispose()
    {
        Stop();
        Completion.Wait(ClientTimeout + ClientTimeout);
        _stop.Dispose();
        foreach (var source in _dataSources.Values.Where(s => s.IsValueCreated)) source.Value.Dispose();
        _metrics.Dispose();
    }
}
