using System.Diagnostics;
using System.Net.Sockets;
using WorkbenchAdmin.Core.Proxies;

namespace WorkbenchAdmin.Core.Tests.Support;

/// <summary>
/// A real nginx, HAProxy or Apache httpd from Debian's packages, run in the foreground with its own
/// configuration in a temporary directory on a free loopback port, and stopped (the process we started,
/// by its id) on dispose.
/// </summary>
public sealed class ProxyProcess : IDisposable
{
    private readonly Process _process;
    private readonly TempDirectory _dir;

    private ProxyProcess(Process process, TempDirectory dir, int port)
    {
        _process = process;
        _dir = dir;
        Port = port;
    }

    public int Port { get; }
    public Uri Uri => new($"http://127.0.0.1:{Port}/");

    public static string? Binary(ProxyKind kind) => kind switch
    {
        ProxyKind.Nginx => Find("nginx"),
        ProxyKind.HAProxy => Find("haproxy"),
        _ => Find("apache2"),
    };

    private static string? Find(string name) =>
        new[] { "/usr/sbin", "/usr/bin", "/sbin", "/bin" }.Select(d => Path.Combine(d, name)).FirstOrDefault(File.Exists);

    /// <summary>Why <paramref name="kind"/> cannot run here, or null when it can.</summary>
    public static string? Missing(ProxyKind kind) =>
        Binary(kind) is null ? $"{kind} is not installed (apt-get install {Package(kind)}; ./bootstrap.sh installs it)" : null;

    public static string Package(ProxyKind kind) => kind switch { ProxyKind.Nginx => "nginx", ProxyKind.HAProxy => "haproxy", _ => "apache2" };

    /// <summary>The modules the Apache configurations here need, from Debian's module directory.</summary>
    public static readonly string[] ApacheModules =
        ["mpm_event", "authz_core", "proxy", "proxy_http", "proxy_balancer", "proxy_wstunnel", "lbmethod_byrequests", "headers", "slotmem_shm", "rewrite", "ssl", "socache_shmcb"];

    /// <summary>
    /// The main file that runs <paramref name="site"/> (the balancing part, as a user writes it) on
    /// <paramref name="port"/>: nginx's events/http around an include, Apache's server settings around an
    /// Include, HAProxy's file as it is (its bind line names the port).
    /// </summary>
    public static string MainFile(ProxyKind kind, string dir, string site, int port) => kind switch
    {
        ProxyKind.Nginx => $"events {{}}\nhttp {{\n    include {site};\n}}\n",
        ProxyKind.Apache => $"""
            ServerRoot "{dir}"
            {string.Join("\n", ApacheModules.Select(m => $"LoadModule {m}_module /usr/lib/apache2/modules/mod_{m}.so"))}
            Listen 127.0.0.1:{port}
            PidFile {dir}/apache.pid
            DefaultRuntimeDir {dir}
            Mutex file:{dir} default
            ErrorLog {dir}/error.log
            LogLevel warn
            ServerName localhost
            {(Posix.IsRoot ? "User nobody\nGroup nogroup" : "")}
            Include {site}

            """,
        _ => File.ReadAllText(site),
    };

    public static ProxyProcess Start(ProxyKind kind, string siteText, int port, TempDirectory dir)
    {
        var binary = Binary(kind) ?? throw new InvalidOperationException(Missing(kind));
        var site = dir.Write(kind == ProxyKind.HAProxy ? "haproxy.cfg" : "site.conf", siteText);
        var main = kind == ProxyKind.HAProxy ? site : dir.Write("main.conf", MainFile(kind, dir.Path, site, port));
        var start = new ProcessStartInfo(binary) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        string[] args = kind switch
        {
            ProxyKind.Nginx => ["-p", dir.Path, "-c", main, "-g", $"daemon off; master_process off; pid {dir.Path}/nginx.pid; error_log {dir.Path}/error.log;"],
            ProxyKind.HAProxy => ["-f", main, "-db"],
            _ => ["-X", "-f", main],
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        var process = Process.Start(start)!;
        var proxy = new ProxyProcess(process, dir, port);
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10))
        {
            if (process.HasExited)
                throw new InvalidOperationException($"{kind} exited with {process.ExitCode}: {process.StandardError.ReadToEnd()} {ErrorLog(dir)}");
            try
            {
                using var probe = new TcpClient();
                probe.Connect("127.0.0.1", port);
                return proxy;
            }
            catch (SocketException) { Thread.Sleep(50); }
        }
        proxy.Dispose();
        throw new TimeoutException($"{kind} did not listen on {port} within 10 s: {ErrorLog(dir)}");
    }

    private static string ErrorLog(TempDirectory dir) => File.Exists(dir.File("error.log")) ? File.ReadAllText(dir.File("error.log")) : "";

    /// <summary>Runs the proxy's own syntax check on a configuration; returns its exit code and output.</summary>
    public static (int Exit, string Output) Validate(ProxyKind kind, string siteText, TempDirectory dir)
    {
        var port = Loopback.FreePort();
        var site = dir.Write(kind == ProxyKind.HAProxy ? "check.cfg" : "check-site.conf", siteText);
        var main = kind == ProxyKind.HAProxy ? site : dir.Write("check-main.conf", MainFile(kind, dir.Path, site, port));
        var start = new ProcessStartInfo(Binary(kind)!) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
        string[] args = kind switch
        {
            ProxyKind.Nginx => ["-t", "-p", dir.Path, "-c", main, "-g", $"pid {dir.Path}/nginx.pid; error_log {dir.Path}/error.log;"],
            ProxyKind.HAProxy => ["-c", "-f", main],
            _ => ["-t", "-f", main],
        };
        foreach (var a in args) start.ArgumentList.Add(a);
        using var process = Process.Start(start)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, output.Result + error);
    }

    public void Dispose()
    {
        try
        {
            if (!_process.HasExited)
            {
                _process.Kill();
                _process.WaitForExit(5000);
            }
        }
        catch (InvalidOperationException) { }
        _process.Dispose();
    }
}

/// <summary>A fact that runs only where the proxy is installed; elsewhere it is skipped with the reason.</summary>
public sealed class ProxyFactAttribute : FactAttribute
{
    public ProxyFactAttribute(ProxyKind kind) => Skip = ProxyProcess.Missing(kind);
}

/// <summary>A theory over the proxies; skipped with the reason when any of them is missing here.</summary>
public sealed class ProxyTheoryAttribute : TheoryAttribute
{
    public ProxyTheoryAttribute()
    {
        var missing = Enum.GetValues<ProxyKind>().Select(ProxyProcess.Missing).Where(m => m is not null).ToList();
        if (missing.Count > 0) Skip = string.Join("; ", missing);
    }
}
