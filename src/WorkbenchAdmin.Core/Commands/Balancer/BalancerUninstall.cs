using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Commands.Balancer;

/// <summary>Uninstall-WbBalancer: what it removes, and where the program path is left.</summary>
public sealed record UninstallBalancerRequest
{
    public string? ConfigRoot { get; init; }
    /// <summary>Where Workbench runs the custom balancer (default /usr/lib/rstudio-server/bin/rserver-balancer).</summary>
    public string? ProgramPath { get; init; }
    /// <summary>Where Install-WbBalancer wrote the decision service's units (default /etc/systemd/system).</summary>
    public string? SystemdUnitPath { get; init; }
}

/// <summary>
/// The parts of Install-WbBalancer that put the fast path in place, and Uninstall-WbBalancer, which takes all of it
/// away: the decision service's units (stopped and disabled where systemd runs), the decider, the client and the
/// pointer; an admin's own program that Install-WbBalancer kept aside goes back to the path, and the load-balancer
/// file's balancer= goes back to what it was before (recorded in the pointer). The policy (workbenchadmin.conf)
/// stays: it is the admin's, and installing again uses it.
/// </summary>
public static class BalancerUninstall
{
    /// <summary>The pointer's record of the balancer Workbench used before Install-WbBalancer set custom.</summary>
    public const string BalancerBeforeKey = "balancer-before";

    /// <summary>The pointer's line recording the balancer before: kept from an earlier install, else read now.</summary>
    internal static string BalancerBeforeLine(ConfigRoot root, string pointer)
    {
        var before = RecordedBalancer(pointer) ?? LoadBalancerConfig.Load(root).Method;
        return $"{BalancerBeforeKey}={before}\n";
    }

    private static string? RecordedBalancer(string pointer)
    {
        if (!File.Exists(pointer)) return null;
        try
        {
            var doc = ConfigDocument.Parse(TrustedPath.ReadFile(pointer, ProgramSettings.MaxFileBytes), pointer, ConfigDialect.Standard);
            return doc.Find(null, BalancerBeforeKey)?.Value is { Length: > 0 } v && BalancingMethods.IsKnown(v) ? v : null;
        }
        catch (Exception e) when (e is WbException or IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    /// <summary>Puts the decider beside the client; true when it is in place.</summary>
    internal static bool PutDecider(string path, byte[] decider, UnixFileMode mode, ICommandHost host)
    {
        if (File.Exists(path) && File.ReadAllBytes(path).AsSpan().SequenceEqual(decider)) return true;
        if (!host.ShouldProcess(path, File.Exists(path) ? "Update the balancer's decider" : "Install the balancer's decider (the client hands it the calls the decision service does not answer)"))
            return false;
        AtomicFile.Write(path, decider, mode, keepOwnerAndMode: false);
        host.WriteVerbose($"{path}: {decider.Length:N0} bytes, mode 755");
        return true;
    }

    /// <summary>-NoService: the decider beside the path and the units of an earlier install go.</summary>
    internal static void RemoveFastPath(string deciderPath, string unitDirectory, ICommandHost host)
    {
        BalancerServiceUnits.Remove(unitDirectory, host);
        if (File.Exists(deciderPath) && host.ShouldProcess(deciderPath, "Remove the balancer's decider (no decision service)")) File.Delete(deciderPath);
    }

    public static void Uninstall(UninstallBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var program = BalancerPolicyOperations.ProgramPathOf(new BalancerPolicyRequest { ProgramPath = request.ProgramPath });
        var pointer = ProgramSettings.PointerPathOf(program);
        var before = RecordedBalancer(pointer);

        RemoveFastPath(program + FastClient.DeciderSuffix, request.SystemdUnitPath ?? BalancerServiceUnits.DefaultDirectory, host);
        var backup = program + BalancerPolicyOperations.BackupSuffix;
        var ours = File.Exists(program) && BalancerPolicyOperations.IsOurs(File.ReadAllBytes(program));
        if (File.Exists(backup))
        {
            if (host.ShouldProcess(program, $"Put back the program that was there before (from {Path.GetFileName(backup)})"))
                File.Move(backup, program, overwrite: true); // a rename: Workbench runs the old file or the restored one, never half of one
        }
        else if (ours && host.ShouldProcess(program, "Remove the balancer program"))
        {
            File.Delete(program);
        }
        else if (File.Exists(program) && !ours)
        {
            host.WriteWarning($"'{program}' is not this module's balancer program: it is left in place.");
        }
        if (File.Exists(pointer) && host.ShouldProcess(pointer, "Remove the balancer's pointer to its policy")) File.Delete(pointer);

        // Workbench goes back to the balancer it used before, unless that was custom with a program now put back.
        var restoreTo = before is null || (before == BalancingMethods.Custom && !File.Exists(program)) ? BalancingMethods.Sessions : before;
        if (LoadBalancerConfig.Load(root).Method == BalancingMethods.Custom && restoreTo != BalancingMethods.Custom)
            BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = root.Path, Method = restoreTo }, host);
        host.WriteVerbose($"{root.PathOf(ModuleSettings.FileName)} is kept: Install-WbBalancer uses its policy again.");
    }
}
