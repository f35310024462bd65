using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using WorkbenchAdmin.Model;

namespace WorkbenchAdmin.Testing;

/// <summary>
/// A private PostgreSQL server in a temporary directory on a free loopback port (or on another address of this
/// host, <see cref="StartListening"/>), for the demo and the tests: initdb, start, stop, restart, and remove
/// everything on dispose. Run as root, it runs the server as the <c>postgres</c> user (PostgreSQL refuses to run
/// as root). Password authentication over TCP.
/// </summary>
public sealed class ThrowawayPostgres : IDisposable
{
    public const string SuperUser = "postgres";
    private readonly string _bin;
    private readonly string? _runAs;
    private bool _disposed;

    private ThrowawayPostgres(string bin, string directory, int port, string password, string? runAs, string host)
    {
        _bin = bin;
        Host = host;
        RootDirectory = directory;
        Port = port;
        Password = password;
        _runAs = runAs;
    }

    public string RootDirectory { get; }
    public string DataDirectory => Path.Combine(RootDirectory, "data");
    public string LogFile => Path.Combine(RootDirectory, "server.log");
    public int Port { get; }
    /// <summary>The address it listens on: 127.0.0.1 unless started with <see cref="StartListening"/>.</summary>
    public string Host { get; }
    public string Password { get; }

    /// <summary>A connection string for a database on this server (password included: it is a throwaway).</summary>
    public string ConnectionString(string database = "postgres") =>
        $"Host={Host};Port={Port};Username={SuperUser};Password={Password};Database={database};Application Name=WorkbenchAdmin";

    /// <summary>The directory of the newest installed PostgreSQL's binaries, or null.</summary>
    public static string? FindBinaries()
    {
        const string root = "/usr/lib/postgresql";
        if (!Directory.Exists(root)) return null;
        return Directory.GetDirectories(root)
            .Select(d => (Dir: d, Version: double.TryParse(Path.GetFileName(d), System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out var v) ? v : 0))
            .OrderByDescending(x => x.Version)
            .Select(x => Path.Combine(x.Dir, "bin"))
            .FirstOrDefault(b => File.Exists(Path.Combine(b, "initdb")) && File.Exists(Path.Combine(b, "pg_ctl")));
    }

    public static ThrowawayPostgres Start(IReadOnlyDictionary<string, string>? settings = null) => Start(settings, "127.0.0.1", null);

    /// <summary>
    /// A server listening on <paramref name="address"/> (an address of this host, such as a test bridge's) that
    /// accepts password logins from <paramref name="clientNetwork"/> (CIDR, e.g. 169.254.47.0/24) as well as loopback.
    /// </summary>
    public static ThrowawayPostgres StartListening(string address, string clientNetwork, IReadOnlyDictionary<string, string>? settings = null)
    {
        if (!IPAddress.TryParse(address, out _)) throw new ArgumentException($"'{address}' is not an IP address.", nameof(address));
        if (!IPNetwork.TryParse(clientNetwork, out _)) throw new ArgumentException($"'{clientNetwork}' is not a network in CIDR form.", nameof(clientNetwork));
        return Start(settings, address, clientNetwork);
    }

    private static ThrowawayPostgres Start(IReadOnlyDictionary<string, string>? settings, string address, string? clientNetwork)
    {
        var bin = FindBinaries() ?? throw new WbException("PostgresNotInstalled", WbErrorCategory.NotInstalled,
            "PostgreSQL's server binaries were not found under /usr/lib/postgresql (apt-get install postgresql).", null);
        var runAs = geteuid() == 0 ? SuperUser : null;
        var directory = Directory.CreateTempSubdirectory("wbadmin-pg-").FullName;
        var password = Convert.ToHexString(System.Security.Cryptography.RandomNumberGenerator.GetBytes(16)).ToLowerInvariant();
        var server = new ThrowawayPostgres(bin, directory, FreePort(IPAddress.Parse(address)), password, runAs, address);
        try
        {
            server.Init(settings ?? new Dictionary<string, string>(), clientNetwork);
            server.StartServer();
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    private void Init(IReadOnlyDictionary<string, string> settings, string? clientNetwork)
    {
        var pwfile = Path.Combine(RootDirectory, "pwfile");
        File.WriteAllText(pwfile, Password + "\n");
        if (_runAs is not null)
        {
            var (uid, gid) = UserIds(_runAs);
            ChangeOwner(RootDirectory, uid, gid);
            ChangeOwner(pwfile, uid, gid);
        }
        Run("initdb", "-D", DataDirectory, "-U", SuperUser, "--pwfile", pwfile, "--auth-local=trust", "--auth-host=scram-sha-256",
            "--encoding=UTF8", "--locale=C", "--no-sync");
        File.Delete(pwfile);

        var conf = new List<string>
        {
            $"port = {Port}",
            $"listen_addresses = '{Host}'",
            $"unix_socket_directories = '{RootDirectory}'",
            "max_connections = 200",
            "shared_buffers = 128MB",
        };
        conf.AddRange(settings.Select(kv => $"{kv.Key} = {kv.Value}"));
        File.AppendAllLines(Path.Combine(DataDirectory, "postgresql.conf"), conf);
        if (clientNetwork is not null)
            File.AppendAllLines(Path.Combine(DataDirectory, "pg_hba.conf"), [$"host all all {clientNetwork} scram-sha-256"]);
    }

    public void StartServer() => Run("pg_ctl", "-D", DataDirectory, "-l", LogFile, "-w", "-t", "60", "start");

    /// <summary>Stops the server at once, as a crash or a killed host would (no checkpoint).</summary>
    public void Kill() => Run("pg_ctl", "-D", DataDirectory, "-m", "immediate", "-w", "stop");

    public void Restart()
    {
        Kill();
        StartServer();
    }

    private void Run(string tool, params string[] args)
    {
        var start = new ProcessStartInfo { UseShellExecute = false, RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = RootDirectory };
        if (_runAs is not null)
        {
            start.FileName = "/usr/sbin/runuser";
            foreach (var a in new[] { "-u", _runAs, "--", Path.Combine(_bin, tool) }) start.ArgumentList.Add(a);
        }
        else
        {
            start.FileName = Path.Combine(_bin, tool);
        }
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(120_000)) { process.Kill(true); throw new TimeoutException($"{tool} did not finish"); }
        if (process.ExitCode != 0)
        {
            var log = File.Exists(LogFile) ? File.ReadAllText(LogFile) : "";
            throw new WbException("PostgresToolFailed", WbErrorCategory.InvalidOperation,
                $"{tool} failed ({process.ExitCode}): {stderr.Result}{stdout.Result}{(log.Length > 0 ? "\nserver log:\n" + log[^Math.Min(log.Length, 2000)..] : "")}", tool);
        }
    }

    private static int FreePort(IPAddress address)
    {
        using var listener = new TcpListener(address, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    private static (uint Uid, uint Gid) UserIds(string user)
    {
        foreach (var line in File.ReadLines("/etc/passwd"))
        {
            var f = line.Split(':');
            if (f.Length > 3 && f[0] == user) return (uint.Parse(f[2]), uint.Parse(f[3]));
        }
        throw new WbException("PostgresUserMissing", WbErrorCategory.NotInstalled, $"There is no '{user}' user to run PostgreSQL as (the postgresql package creates it).", user);
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        try { if (File.Exists(Path.Combine(DataDirectory, "postmaster.pid"))) Kill(); } catch (Exception) { }
        try { Directory.Delete(RootDirectory, recursive: true); } catch (IOException) { } catch (UnauthorizedAccessException) { }
    }

    // Standalone on purpose: this assembly loads in the default context and must not pull in the engine.
    [DllImport("libc", SetLastError = true)]
    private static extern uint geteuid();

    [DllImport("libc", SetLastError = true, EntryPoint = "chown")]
    private static extern int Chown(string path, uint owner, uint group);

    private static void ChangeOwner(string path, uint uid, uint gid)
    {
        if (Chown(path, uid, gid) != 0)
            throw new IOException($"chown {path}: errno {Marshal.GetLastPInvokeError()}");
    }
}
