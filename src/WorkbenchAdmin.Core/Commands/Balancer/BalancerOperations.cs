using System.Text.RegularExpressions;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;

namespace WorkbenchAdmin.Core.Commands.Balancer;

public sealed record GetBalancerRequest
{
    public string? ConfigRoot { get; init; }
    /// <summary>Whose host name stands in for an unset www-host-name; this machine when null.</summary>
    public Machine? Machine { get; init; }
}

public sealed record SetBalancerRequest
{
    public string? ConfigRoot { get; init; }
    public string? Method { get; init; }
    public string? WwwHostName { get; init; }
    public string? ScriptPath { get; init; }
    public bool? UseIPAddress { get; init; }
    public bool PassThru { get; init; }
    /// <summary>Whose host name stands in for an unset www-host-name; this machine when null.</summary>
    public Machine? Machine { get; init; }
}

/// <summary>Get-WbBalancer and Set-WbBalancer.</summary>
public static partial class BalancerOperations
{
    public static void Get(GetBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var setting = Read(root, request.Machine);
        host.WriteVerbose($"Read {root.PathOf(ConfigFiles.RServer)} and {root.PathOf(ConfigFiles.LoadBalancer)}{(setting.LoadBalancerFilePresent ? "" : " (absent)")}: " +
                          $"balancer {setting.Method}{(setting.MethodIsDefault ? " (the default)" : "")}, load balancing {setting.LoadBalancing}, address {setting.EffectiveWwwHostName}.");
        foreach (var warning in setting.Warnings) host.WriteWarning(warning);
        host.WriteObject(setting);
    }

    /// <param name="machine">Whose host name stands in for an unset www-host-name; this machine when null.</param>
    public static BalancerSetting Read(ConfigRoot root, Machine? machine = null)
    {
        var rserver = RServerConfig.Load(root);
        var lb = LoadBalancerConfig.Load(root);
        var warnings = new List<string>();

        var state = lb.State(rserver);
        if (state == LoadBalancingState.LegacyFileOnly)
            warnings.Add($"Load balancing is enabled only by the presence of '{root.PathOf(ConfigFiles.LoadBalancer)}' (legacy). Set load-balancing-enabled=1 in {ConfigFiles.RServer} (Set-WbBalancer does).");
        if (rserver.LoadBalancingEnabled == false && lb.FilePresent)
            warnings.Add($"'{root.PathOf(ConfigFiles.LoadBalancer)}' exists but load-balancing-enabled=0 in {ConfigFiles.RServer}: this node runs alone.");
        if (rserver.LoadBalancingEnabled == true && !lb.FilePresent)
            warnings.Add($"load-balancing-enabled=1 but '{root.PathOf(ConfigFiles.LoadBalancer)}' is missing: the balancer is the default ({LoadBalancerConfig.DefaultMethod}) and www-host-name is this host's name.");
        if (lb.LegacyForm)
            warnings.Add($"'{root.PathOf(ConfigFiles.LoadBalancer)}' is in the pre-2021.09 form (a [config] or [nodes] section){(lb.LegacyNodes.Count > 0 ? "; its [nodes] list is legacy and ignored: nodes join through the database" : "")}. Set-WbBalancer migrates it to the current form (-WhatIf shows how).");

        if (lb.HasLegacyModuleKeys)
            warnings.Add($"'{root.PathOf(ConfigFiles.LoadBalancer)}' holds {string.Join(" and ", LoadBalancerConfig.LegacyModuleKeys)}, keys Workbench does not document " +
                         $"(an earlier version of this module wrote them there). Set-WbBalancer moves them to {ModuleSettings.FileName}.");
        var (scriptPath, useIp) = BalancingPolicies.LoadSettings(root).Effective(lb);
        var scriptExists = File.Exists(scriptPath);
        var scriptExecutable = scriptExists && UnixFile.IsExecutable(scriptPath);
        if (lb.Method == BalancingMethods.Custom && !scriptExecutable)
            warnings.Add(scriptExists
                ? $"The custom balancer script '{scriptPath}' is not executable (chmod +x)."
                : $"The balancer is custom but its script '{scriptPath}' does not exist.");

        return new BalancerSetting
        {
            ConfigRoot = root.Path,
            Method = lb.Method,
            MethodIsDefault = lb.MethodSource is null,
            LoadBalancing = state,
            LoadBalancerFilePresent = lb.FilePresent,
            LegacyForm = lb.LegacyForm,
            WwwHostName = lb.WwwHostName,
            EffectiveWwwHostName = NodeAddress.Of(rserver, lb, machine ?? Machine.Local).Text,
            DeleteNodeOnExit = lb.DeleteNodeOnExit,
            ScriptPath = scriptPath,
            ScriptExists = scriptExists,
            ScriptExecutable = scriptExecutable,
            UseIPAddress = useIp,
            Warnings = warnings,
        };
    }

    public static void Set(SetBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var lb = LoadBalancerConfig.Load(root);
        var lbChanges = new List<ConfigChange>();
        if (request.Method is not null) lbChanges.Add(new ConfigChange(null, "balancer", BalancingMethods.Normalize(request.Method)));
        if (request.WwwHostName is not null) lbChanges.Add(new ConfigChange(null, "www-host-name", ValidateHostName(request.WwwHostName)));

        // The module's own keys go to its own file; legacy copies in load-balancer move there (what was asked wins).
        var moduleChanges = new List<ConfigChange>();
        // A value already in the module's file is the one in effect, so a legacy copy never overwrites it.
        var module = BalancingPolicies.LoadSettings(root);
        var scriptPath = request.ScriptPath is not null ? ValidateAbsolutePath(request.ScriptPath, "ScriptPath")
            : module.CustomScriptPath is null ? lb.LegacyCustomScriptPath : null;
        var useIp = request.UseIPAddress ?? (module.UseIpAddress is null ? lb.LegacyUseIpAddress : null);
        if (scriptPath is not null) moduleChanges.Add(new ConfigChange(null, ModuleSettings.CustomScriptKey, scriptPath));
        if (useIp is { } ip) moduleChanges.Add(new ConfigChange(null, ModuleSettings.UseIpAddressKey, ip ? "1" : "0"));
        foreach (var key in LoadBalancerConfig.LegacyModuleKeys) lbChanges.Add(new ConfigChange(null, key, null));

        var editor = new ConfigEditor(root, cancel: host.Cancellation);
        var edits = new List<ConfigFileEdit>();
        // The module's file before load-balancer loses the legacy keys, so a failure between the two loses nothing.
        edits.Add(editor.Edit(ModuleSettings.FileName, moduleChanges, host.ShouldProcess));
        if (edits[^1].Outcome == ConfigEditOutcome.Declined && lb.HasLegacyModuleKeys) lbChanges.RemoveAll(c => c.Value is null);
        // load-balancer before rserver.conf: enabling clustering before its settings are in place would briefly run the default.
        // A pre-2021.09 file is migrated to the current form first, then changed.
        edits.Add(editor.Edit(ConfigFiles.LoadBalancer, lbChanges, host.ShouldProcess, LoadBalancerConfig.SectionFor,
                              lb.LegacyForm ? LoadBalancerConfig.MigrateLegacy : null));
        edits.Add(editor.Edit(ConfigFiles.RServer, [new ConfigChange(null, "load-balancing-enabled", "1")], host.ShouldProcess));
        foreach (var edit in edits.Where(e => e.Outcome == ConfigEditOutcome.Written))
            host.WriteVerbose($"{edit.Path}: {string.Join(", ", edit.Changes.Select(c => $"{c.Key} {c.OldValue ?? "(unset)"} -> {c.NewValue}"))}");

        if (request.PassThru && edits.All(e => e.Outcome != ConfigEditOutcome.Declined))
            host.WriteObject(Read(root, request.Machine));
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

    /// <summary>A path parameter written into a configuration file: absolute, one line, no surrounding white space.</summary>
    internal static string ValidateAbsolutePath(string path, string parameter, string? errorId = null)
    {
        if (!Path.IsPathRooted(path) || path.IndexOfAny(['\r', '\n']) >= 0 || path != path.Trim())
            throw new WbException(errorId ?? $"Invalid{parameter}", WbErrorCategory.InvalidArgument,
                $"-{parameter} '{SafeText.Quote(path)}' must be an absolute path.", path);
        return path;
    }

    [GeneratedRegex(@"^(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9.\-]*[A-Za-z0-9])?)(?::(?<port>[0-9]{1,5}))?$")]
    private static partial Regex HostPort();
}
