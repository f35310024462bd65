using System.Text;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Commands.Balancer;

/// <summary>
/// The decision service's systemd units, as Install-WbBalancer writes them: <c>workbenchadmin-balancer.socket</c>
/// holds the policy's socket (root only) and starts <c>workbenchadmin-balancer.service</c> (the decider run with
/// --serve) on the first call; the socket outlives restarts of the service, so calls made meanwhile wait in its
/// queue. Enabled and started with systemctl where systemd runs and the units go where it reads them; elsewhere
/// (containers, CI, a test's unit directory) only the files are written, and the cmdlet says so.
/// </summary>
public static class BalancerServiceUnits
{
    public const string Name = "workbenchadmin-balancer";
    public const string SocketUnit = Name + ".socket";
    public const string ServiceUnit = Name + ".service";
    public const string DefaultDirectory = "/etc/systemd/system";
    private const UnixFileMode UnitMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.GroupRead | UnixFileMode.OtherRead;

    public static string SocketText(string socketPath) => $"""
        # Written by Install-WbBalancer (WorkbenchAdmin); Uninstall-WbBalancer removes it.
        # The balancer program's decision service listens here: the program Workbench runs for every new session
        # asks it first. The socket starts the service on the first call and keeps calls waiting while it restarts.
        [Unit]
        Description=WorkbenchAdmin: the balancer program's decision service socket

        [Socket]
        ListenStream={socketPath}
        # Root alone may ask: whoever answers here chooses every user's node.
        SocketUser=root
        SocketMode=0600
        DirectoryMode=0700
        Backlog=256
        # Stopped (Uninstall-WbBalancer), nothing is left there for the program to ask.
        RemoveOnStop=yes

        [Install]
        WantedBy=sockets.target

        """;

    public static string ServiceText(string deciderPath) => $"""
        # Written by Install-WbBalancer (WorkbenchAdmin); Uninstall-WbBalancer removes it.
        # The balancer program's decider as a long-lived service, started by {SocketUnit}: it decides with the same
        # policy and logic as the program, with the store's connection kept open. When it is stopped, slow or absent,
        # the program decides itself: stopping it never stops logins.
        [Unit]
        Description=WorkbenchAdmin: the balancer program's decision service
        Requires={SocketUnit}
        After={SocketUnit} network-online.target
        # Not started (rather than failing and restarting) where the program has been removed.
        ConditionFileIsExecutable={deciderPath}

        [Service]
        Type=simple
        ExecStart={deciderPath} --serve
        # /var/lib/workbenchadmin: the default state-directory, where drained nodes are recorded for when the store is down.
        StateDirectory=workbenchadmin
        # It runs as root and needs only to read the configuration, reach the store and write its state directory.
        NoNewPrivileges=yes
        ProtectSystem=full
        ProtectHome=yes
        PrivateTmp=yes
        Restart=always
        RestartSec=1

        [Install]
        Also={SocketUnit}

        """;

    /// <summary>The units for the decider at <paramref name="deciderPath"/> serving at <paramref name="socketPath"/>, by file name.</summary>
    public static IReadOnlyList<(string FileName, string Text)> Units(string deciderPath, string socketPath) =>
        [(SocketUnit, SocketText(socketPath)), (ServiceUnit, ServiceText(deciderPath))];

    /// <summary>Whether systemctl is to be run for units in <paramref name="directory"/>: systemd runs and reads that directory.</summary>
    public static bool Manages(string directory) =>
        Systemd.IsRunning && Path.GetFullPath(directory).TrimEnd('/') == DefaultDirectory;

    /// <summary>Writes the units into <paramref name="directory"/> (each asked for), then enables and starts the socket where systemd runs.</summary>
    public static void Install(string directory, string deciderPath, string socketPath, ICommandHost host)
    {
        if (!Directory.Exists(directory))
            throw new WbException("SystemdUnitPathNotFound", WbErrorCategory.ObjectNotFound,
                $"-SystemdUnitPath '{directory}' does not exist: the decision service's units go there (or pass -NoService).", directory);
        var changed = false;
        foreach (var (fileName, text) in Units(deciderPath, socketPath))
        {
            var path = Path.Combine(directory, fileName);
            var bytes = Encoding.UTF8.GetBytes(text);
            if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(bytes)) continue;
            if (!host.ShouldProcess(path, File.Exists(path) ? "Update the decision service's unit" : "Install the decision service's unit")) return;
            AtomicFile.Write(path, bytes, UnitMode, keepOwnerAndMode: false);
            changed = true;
        }
        if (!Manages(directory))
        {
            host.WriteWarning(Systemd.IsRunning
                ? $"The decision service's units are written to {directory}, not where systemd reads them ({DefaultDirectory}): nothing was enabled or started."
                : $"systemd is not running here: the decision service's units are written to {directory}, not enabled or started. " +
                  $"Start the service as its unit would ({deciderPath} --serve); until then the program decides alone.");
            return;
        }
        if (!host.ShouldProcess(SocketUnit, "Enable and start the decision service's socket")) return;
        if (changed) RunSystemctl(host, "daemon-reload");
        RunSystemctl(host, "enable", "--now", SocketUnit);
        // A service already running keeps the program it started from: restarted, the new one decides.
        RunSystemctl(host, "try-restart", ServiceUnit);
    }

    /// <summary>Stops and disables the units where systemd runs, then removes their files (each asked for).</summary>
    public static void Remove(string directory, ICommandHost host)
    {
        var present = Units("", "").Select(u => Path.Combine(directory, u.FileName)).Where(File.Exists).ToList();
        if (present.Count == 0) return;
        if (Manages(directory) && host.ShouldProcess(SocketUnit, "Stop and disable the decision service"))
            RunSystemctl(host, "disable", "--now", SocketUnit, ServiceUnit);
        foreach (var path in present)
            if (host.ShouldProcess(path, "Remove the decision service's unit")) File.Delete(path);
        if (Manages(directory)) RunSystemctl(host, "daemon-reload");
    }

    private static void RunSystemctl(ICommandHost host, params string[] arguments)
    {
        var command = $"systemctl {string.Join(' ', arguments)}";
        host.WriteVerbose(command);
        var run = Systemd.Run(TimeSpan.FromSeconds(60), arguments) ??
                  throw new WbException("SystemctlNotFound", WbErrorCategory.ObjectNotFound, "systemd runs, but systemctl is not in /usr/bin or /bin.", null);
        if (run.TimedOut)
            throw new WbException("SystemctlTimedOut", WbErrorCategory.OperationTimeout, $"'{command}' did not finish within 60 s.", null);
        if (run.ExitCode != 0)
            throw new WbException("SystemctlFailed", WbErrorCategory.InvalidOperation, $"'{command}' exited with {run.ExitCode}: {run.Error.Trim()}", null);
    }
}
