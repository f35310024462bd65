using System.Net;
using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Configuration;

namespace WorkbenchAdmin.Core.Commands.Balancer;

public sealed record GetBalancerRequest
{
    public string? ConfigRoot { get; init; }
}

public sealed record SetBalancerRequest
{
    public string? ConfigRoot { get; init; }
    public string? Method { get; init; }
    public string? WwwHostName { get; init; }
    public string? ScriptPath { get; init; }
    public bool? UseIPAddress { get; init; }
    public bool PassThru { get; init; }
}

/// <summary>Get-WbBalancer and Set-WbBalancer.</summary>
public static partial class BalancerOperations
{
    /// <summary>The host name used for the default www-host-name; replaceable so tests are deterministic.</summary>
    public static Func<string> HostName { get; set; } = Dns.GetHostName;

    public static void Get(GetBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var setting = Read(root);
        host.WriteVerbose($"Read {root.PathOf(ConfigFiles.RServer)} and {root.PathOf(ConfigFiles.LoadBalancer)}{(setting.LoadBalancerFilePresent ? "" : " (absent)")}: " +
                          $"balancer {setting.Method}{(setting.MethodIsDefault ? " (the default)" : "")}, load balancing {setting.LoadBalancing}, address {setting.EffectiveWwwHostName}.");
        foreach (var warning in setting.Warnings) host.WriteWarning(warning);
        host.WriteObject(setting);
    }

    public static BalancerSetting Read(ConfigRoot root)
    {
        var rserver = RServerConfig.Load(root);
        var lb = LoadBalancerConfig.Load(root);
        var warnings = new List<string>();

        var state = rserver.LoadBalancingEnabled switch
        {
            true => LoadBalancingState.Enabled,
            false => LoadBalancingState.Disabled,
            null => lb.FilePresent ? LoadBalancingState.LegacyFileOnly : LoadBalancingState.Disabled,
        };
        if (state == LoadBalancingState.LegacyFileOnly)
            warnings.Add($"Load balancing is enabled only by the presence of '{root.PathOf(ConfigFiles.LoadBalancer)}' (legacy). Set load-balancing-enabled=1 in {ConfigFiles.RServer} (Set-WbBalancer does).");
        if (rserver.LoadBalancingEnabled == false && lb.FilePresent)
            warnings.Add($"'{root.PathOf(ConfigFiles.LoadBalancer)}' exists but load-balancing-enabled=0 in {ConfigFiles.RServer}: this node runs alone.");
        if (rserver.LoadBalancingEnabled == true && !lb.FilePresent)
            warnings.Add($"load-balancing-enabled=1 but '{root.PathOf(ConfigFiles.LoadBalancer)}' is missing: the balancer is the default ({LoadBalancerConfig.DefaultMethod}) and www-host-name is this host's name.");
        if (lb.LegacyNodes.Count > 0)
            warnings.Add($"The [nodes] section of '{root.PathOf(ConfigFiles.LoadBalancer)}' is legacy and ignored: nodes join through the database.");

        var scriptExists = File.Exists(lb.CustomScriptPath);
        var scriptExecutable = scriptExists && Platform.UnixFile.IsExecutable(lb.CustomScriptPath);
        if (lb.Method == BalancingMethods.Custom && !scriptExecutable)
            warnings.Add(scriptExists
                ? $"The custom balancer script '{lb.CustomScriptPath}' is not executable (chmod +x)."
                : $"The balancer is custom but its script '{lb.CustomScriptPath}' does not exist.");

        return new BalancerSetting
        {
            ConfigRoot = root.Path,
            Method = lb.Method,
            MethodIsDefault = lb.MethodSource is null,
            LoadBalancing = state,
            LoadBalancerFilePresent = lb.FilePresent,
            WwwHostName = lb.WwwHostName,
            EffectiveWwwHostName = lb.WwwHostName ?? $"{HostName()}:{rserver.WwwPort}",
            DeleteNodeOnExit = lb.DeleteNodeOnExit,
            ScriptPath = lb.CustomScriptPath,
            ScriptExists = scriptExists,
            ScriptExecutable = scriptExecutable,
            UseIPAddress = lb.UseIpAddress,
            Warnings = warnings,
        };
    }

    public static void Set(SetBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var lbChanges = new List<ConfigChange>();
        if (request.Method is not null) lbChanges.Add(new ConfigChange(null, "balancer", BalancingMethods.Normalize(request.Method)));
        if (request.WwwHostName is not null) lbChanges.Add(new ConfigChange(null, "www-host-name", ValidateHostName(request.WwwHostName)));
        if (request.ScriptPath is not null) lbChanges.Add(new ConfigChange(null, LoadBalancerConfig.CustomScriptKey, ValidateScriptPath(request.ScriptPath)));
        if (request.UseIPAddress is { } useIp) lbChanges.Add(new ConfigChange(null, LoadBalancerConfig.UseIpAddressKey, useIp ? "1" : "0"));

        var editor = new ConfigEditor(root);
        var edits = new List<ConfigFileEdit>
        {
            // load-balancer first: enabling clustering before its settings are in place would briefly run the default.
            editor.Edit(ConfigFiles.LoadBalancer, lbChanges, host.ShouldProcess, LoadBalancerConfig.SectionFor),
            editor.Edit(ConfigFiles.RServer, [new ConfigChange(null, "load-balancing-enabled", "1")], host.ShouldProcess),
        };
        foreach (var edit in edits.Where(e => e.Outcome == ConfigEditOutcome.Written))
            host.WriteVerbose($"{edit.Path}: {string.Join(", ", edit.Changes.Select(c => $"{c.Key} {c.OldValue ?? "(unset)"} -> {c.NewValue}"))}");

        if (request.PassThru && edits.All(e => e.Outcome != ConfigEditOutcome.Declined))
            host.WriteObject(Read(root));
    }

    /// <summary>A host name, IPv4 address or [IPv6] address, optionally with :port.</summary>
    internal static string ValidateHostName(string value)
    {
        var m = HostPort().Match(value);
        var ok = m.Success && (!m.Groups["port"].Success || int.Parse(m.Groups["port"].Value) is >= 1 and <= 65535);
        if (!ok)
            throw new WbException("InvalidWwwHostName", WbErrorCategory.InvalidArgument,
                $"-WwwHostName '{SafeText.Quote(value)}' is not a host name or address with an optional :port (for example node1.example.com:8787).", value);
        return value;
    }

    private static string ValidateScriptPath(string path)
    {
        if (!Path.IsPathRooted(path) || path.IndexOfAny(['\r', '\n']) >= 0 || path != path.Trim())
            throw new WbException("InvalidScriptPath", WbErrorCategory.InvalidArgument,
                $"-ScriptPath '{SafeText.Quote(path)}' must be an absolute path.", path);
        return path;
    }

    [GeneratedRegex(@"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)(?::(?<port>[0-9]{1,5}))?$")]
    private static partial Regex HostPort();
}
