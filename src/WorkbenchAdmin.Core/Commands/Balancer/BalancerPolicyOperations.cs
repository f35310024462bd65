using WorkbenchAdmin.Core.Formats;
using System.Globalization;
using System.Text;
using WorkbenchAdmin.Core.Balancing;
using WorkbenchAdmin.Core.Live;
using WorkbenchAdmin.Core.Configuration;
using WorkbenchAdmin.Core.Platform;
using WorkbenchAdmin.Core.Store;

namespace WorkbenchAdmin.Core.Commands.Balancer;

/// <summary>The policy options Install-WbBalancer and Set-WbBalancerPolicy share; null leaves a setting as it is.</summary>
public record BalancerPolicyRequest
{
    public string? ConfigRoot { get; init; }
    public string? Method { get; init; }
    public int? MaxSessionsPerNode { get; init; }
    /// <summary>The policies' options the program reads, as cmdlet parameters give them (name to value), such as BalanceFactor.</summary>
    public IReadOnlyDictionary<string, object?>? PolicyOptionValues { get; init; }
    public bool? Sticky { get; init; }
    public int? DeadlineMs { get; init; }
    public int? StoreMaxAgeMs { get; init; }
    public string? StatusUri { get; init; }
    public string? StateDirectory { get; init; }
    public string? ServiceSocket { get; init; }
    /// <summary>The installed program, for showing whether it is there (default: Workbench's fixed custom path).</summary>
    public string? ProgramPath { get; init; }
    public bool PassThru { get; init; }
}

public sealed record InstallBalancerRequest : BalancerPolicyRequest
{
    public InstallBalancerRequest() { }

    /// <summary>The policy options of <paramref name="policy"/>, for installing with them.</summary>
    public InstallBalancerRequest(BalancerPolicyRequest policy) : base(policy) { }

    /// <summary>The package's own program (bin/wbadmin-balancer beside the module): the decider.</summary>
    public required string ProgramSource { get; init; }
    /// <summary>
    /// The package's fast client (bin/wbadmin-balancer-client): installed at the program's path, with the decider beside
    /// it (<see cref="FastClient.DeciderSuffix"/>) and the decision service's units. Null: the decider alone at the path.
    /// </summary>
    public string? ClientSource { get; init; }
    /// <summary>-NoService: no client, no decision service (its units removed if an earlier install wrote them).</summary>
    public bool NoService { get; init; }
    /// <summary>Where the decision service's units go (default /etc/systemd/system).</summary>
    public string? SystemdUnitPath { get; init; }
}

/// <summary>Install-WbBalancer, Get-WbBalancerPolicy and Set-WbBalancerPolicy.</summary>
public static class BalancerPolicyOperations
{
    public const string ProgramFileName = BalancerProgram.Tag;
    /// <summary>An admin's own program that Install-WbBalancer replaces is kept under this suffix.</summary>
    public const string BackupSuffix = ".before-workbenchadmin";
    private const UnixFileMode ProgramMode = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute |
                                             UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute;

    public static void Get(BalancerPolicyRequest request, ICommandHost host)
    {
        var policy = Read(ConfigRoot.Resolve(request.ConfigRoot), ProgramPathOf(request), null);
        foreach (var w in policy.Warnings) host.WriteWarning(w);
        host.WriteObject(policy);
    }

    public static void Set(BalancerPolicyRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var edit = WritePolicy(root, request, host);
        if (request.PassThru && edit.Outcome != ConfigEditOutcome.Declined) host.WriteObject(Read(root, ProgramPathOf(request), null));
    }

    /// <summary>
    /// Policy first, then the program (replaced atomically, 755, ours), then the pointer beside it, and last
    /// <c>balancer=custom</c>: Workbench starts calling the program only once everything it reads is in place.
    /// </summary>
    public static void Install(InstallBalancerRequest request, ICommandHost host)
    {
        var root = ConfigRoot.Resolve(request.ConfigRoot);
        var program = ProgramPathOf(request);
        if (!File.Exists(request.ProgramSource))
            throw new WbException("BalancerProgramMissing", WbErrorCategory.ObjectNotFound,
                $"The package has no balancer program at '{request.ProgramSource}': install the module from its package (build.ps1 -Task Package stages it).", request.ProgramSource);
        var decider = File.ReadAllBytes(request.ProgramSource);
        var fast = request.ClientSource is not null && !request.NoService;
        if (fast && !File.Exists(request.ClientSource))
            throw new WbException("BalancerProgramMissing", WbErrorCategory.ObjectNotFound,
                $"The package has no balancer client at '{request.ClientSource}': install the module from its package, or pass -NoService.", request.ClientSource);
        // What Workbench runs: the client in front of the decider, or the decider itself.
        var bytes = fast ? File.ReadAllBytes(request.ClientSource!) : decider;
        var unitDirectory = request.SystemdUnitPath ?? BalancerServiceUnits.DefaultDirectory;
        if (!Directory.Exists(Path.GetDirectoryName(program)))
            throw new WbException("BalancerPathNotFound", WbErrorCategory.ObjectNotFound,
                $"-Path '{program}': its directory does not exist (is Workbench installed on this node?). Nothing was changed.", program);

        // Every step is asked for (so -WhatIf lists them all); Workbench is pointed at the program only once it is in place.
        WritePolicy(root, request, host);
        // The module's own cmdlets (Invoke-WbBalanceDecision, New-WbSession) play balancer=custom with this same program.
        new ConfigEditor(root, cancel: host.Cancellation).Edit(ModuleSettings.FileName, [new ConfigChange(null, ModuleSettings.CustomScriptKey, program)], host.ShouldProcess, writableByUsAlone: true);

        var existing = File.Exists(program) ? File.ReadAllBytes(program) : null;
        var inPlace = existing is not null && existing.AsSpan().SequenceEqual(bytes);
        if (!inPlace)
        {
            var ours = existing is not null && IsOurs(existing);
            var action = existing is null ? "Install the balancer program" : ours ? "Update the balancer program" : $"Replace the program there (kept as {Path.GetFileName(program)}{BackupSuffix})";
            if (host.ShouldProcess(program, action))
            {
                if (existing is not null && !ours) AtomicFile.Write(program + BackupSuffix, existing, ProgramMode, keepOwnerAndMode: false);
                AtomicFile.Write(program, bytes, ProgramMode, keepOwnerAndMode: false);
                host.WriteVerbose($"{program}: {bytes.Length:N0} bytes, mode 755");
                inPlace = true;
                WarnIfServiceRunsTheOldProgram(root, existing, host);
            }
        }

        var deciderPath = program + FastClient.DeciderSuffix;
        if (fast) inPlace &= BalancerUninstall.PutDecider(deciderPath, decider, ProgramMode, host);
        else BalancerUninstall.RemoveFastPath(deciderPath, unitDirectory, host);

        var pointer = ProgramSettings.PointerPathOf(program);
        var pointerText = $"# Written by Install-WbBalancer: the balancer beside this file reads its policy from {ModuleSettings.FileName} there.\n" +
                          $"{ProgramSettings.ConfigRootKey}={root.Path}\n" +
                          BalancerUninstall.BalancerBeforeLine(root, pointer);
        var pointed = File.Exists(pointer) && File.ReadAllText(pointer) == pointerText;
        if (!pointed && host.ShouldProcess(pointer, $"Point the balancer at {root.Path}"))
        {
            AtomicFile.Write(pointer, Encoding.UTF8.GetBytes(pointerText), AtomicFile.DefaultMode, keepOwnerAndMode: false);
            pointed = true;
        }
        if (!inPlace || !pointed) return;
        if (fast) BalancerServiceUnits.Install(unitDirectory, deciderPath, ModuleSettings.Load(root).Balancer.ServiceSocket, host);

        BalancerOperations.Set(new SetBalancerRequest { ConfigRoot = root.Path, Method = BalancingMethods.Custom }, host);
        if (request.PassThru) host.WriteObject(Read(root, program, bytes));
    }

    /// <summary>
    /// A decision service started from the replaced program keeps running it (its file was replaced, not its
    /// process), and the program asks it first: the admin must restart it for the new one to decide.
    /// </summary>
    private static void WarnIfServiceRunsTheOldProgram(ConfigRoot root, byte[]? replaced, ICommandHost host)
    {
        if (replaced is null) return;
        var socket = BalancingPolicies.LoadSettings(root).Balancer.ServiceSocket;
        if (UnixFile.TryStat(socket, followLinks: false) is { Type: UnixFileType.Socket })
            host.WriteWarning($"A decision service answers at {socket}, running the program that was there before: restart it " +
                              "(systemctl restart workbenchadmin-balancer) so that the program just installed decides.");
    }

    internal static bool IsOurs(byte[] program) =>
        program.AsSpan().IndexOf("WorkbenchAdmin.Core.Live"u8) >= 0 || program.AsSpan().IndexOf(Encoding.UTF8.GetBytes(FastClient.Marker)) >= 0 || program.AsSpan().IndexOf(Encoding.Unicode.GetBytes("wbadmin-balancer")) >= 0;

    internal static string ProgramPathOf(BalancerPolicyRequest request)
    {
        return BalancerOperations.ValidateAbsolutePath(request.ProgramPath ?? LoadBalancerConfig.DefaultCustomScript, "Path", "InvalidProgramPath");
    }

    private static ConfigFileEdit WritePolicy(ConfigRoot root, BalancerPolicyRequest r, ICommandHost host)
    {
        var changes = new List<ConfigChange>();
        void Add(string key, string? value) { if (value is not null) changes.Add(new ConfigChange(ModuleSettings.BalancerSection, key, value)); }
        Add(ModuleSettings.MethodKey, r.Method is null ? null : ValidMethod(r.Method));
        Add(ModuleSettings.MaxSessionsKey, r.MaxSessionsPerNode is { } m ? Decisions.BalanceDecisionOperation.ValidMaxSessionsPerNode(m).ToString(CultureInfo.InvariantCulture) : null);
        foreach (var (name, value) in r.PolicyOptionValues ?? new Dictionary<string, object?>())
        {
            if (value is null) continue;
            var option = BalancingPolicies.Option(name);
            var valid = option.Validate(value);
            Add(option.Key ?? throw new WbException("NotAProgramSetting", WbErrorCategory.InvalidArgument,
                $"-{option.Parameter} is not a setting of the balancer program: only the cmdlets that decide take it.", value), option.Format(valid));
        }
        Add(ModuleSettings.StickyKey, r.Sticky is { } s ? (s ? "1" : "0") : null);
        Add(ModuleSettings.DeadlineKey, r.DeadlineMs is { } d ? ValidDeadline(d).ToString(CultureInfo.InvariantCulture) : null);
        Add(ModuleSettings.StatusUrlKey, r.StatusUri is { } u ? ValidStatusUri(u) : null);
        Add(ModuleSettings.StateDirectoryKey, r.StateDirectory is { } sd ? BalancerOperations.ValidateAbsolutePath(sd, "StateDirectory") : null);
        Add(ModuleSettings.ServiceSocketKey, r.ServiceSocket is { } ss ? ValidServiceSocket(ss) : null);
        Add(ModuleSettings.StoreMaxAgeKey, r.StoreMaxAgeMs is { } age ? ValidStoreMaxAge(age).ToString(CultureInfo.InvariantCulture) : null);
        // The program refuses a policy file others could change: what these cmdlets write, it reads.
        var edit = new ConfigEditor(root, cancel: host.Cancellation).Edit(ModuleSettings.FileName, changes, host.ShouldProcess, writableByUsAlone: true);
        if (edit.Outcome == ConfigEditOutcome.Written)
            host.WriteVerbose($"{edit.Path}: {(edit.Changes.Count == 0 ? $"made writable by {UnixFile.TrustedOwners} alone" : string.Join(", ", edit.Changes.Select(c => $"{c.Key} {c.OldValue ?? "(unset)"} -> {c.NewValue}")))}");
        BalancingPolicies.LoadSettings(root); // what was written must read back (a hand-edited file may hold another bad value)
        return edit;
    }

    private static string ValidServiceSocket(string path)
    {
        var valid = BalancerOperations.ValidateAbsolutePath(path, "ServiceSocket");
        if (UnixSocketPath.WhyInvalid(valid) is { } why)
            throw new WbException("InvalidServiceSocket", WbErrorCategory.InvalidArgument, $"-ServiceSocket '{SafeText.Quote(path)}' {why}.", path);
        return valid;
    }

    internal static string ValidMethod(string method)
    {
        var name = method.Trim().ToLowerInvariant();
        if (!BalancingPolicies.ProgramMethods.Contains(name))
            throw new WbException("InvalidBalancingMethod", WbErrorCategory.InvalidArgument,
                $"-Method '{SafeText.Quote(method)}' cannot be the balancer program's policy; use one of {string.Join(", ", BalancingPolicies.ProgramMethods)}" +
                (name == BalancingMethods.Custom ? " (custom is the program itself)." : "."), method);
        return name;
    }

    private static int ValidDeadline(int ms) => ms is >= ModuleSettings.MinDeadlineMs and <= ModuleSettings.MaxDeadlineMs ? ms
        : throw new WbException("InvalidDeadline", WbErrorCategory.InvalidArgument,
            $"-DeadlineMs {ms} must be from {ModuleSettings.MinDeadlineMs} to {ModuleSettings.MaxDeadlineMs}: a user waits on every decision.", ms);

    private static int ValidStoreMaxAge(int ms) => ms is >= 0 and <= ModuleSettings.MaxStoreMaxAgeMs ? ms
        : throw new WbException("InvalidStoreMaxAge", WbErrorCategory.InvalidArgument,
            $"-StoreMaxAgeMs {ms} must be from 0 (read the store for every decision) to {ModuleSettings.MaxStoreMaxAgeMs}: a drain takes effect within it.", ms);

    private static string ValidStatusUri(string uri) =>
        Uri.TryCreate(uri, UriKind.Absolute, out var u) && SessionLoadText.IsPageAddress(u) && uri.IndexOfAny(['\r', '\n', ' ']) < 0 ? uri
        : throw new WbException("InvalidStatusPageUri", WbErrorCategory.InvalidArgument,
            $"-StatusUri '{SafeText.Quote(uri)}' is not an http:// or https:// address, such as http://localhost:8787/load-balancer/status.", uri);

    /// <summary>The policy in effect and whether the program is in place; <paramref name="packaged"/> to compare it with.</summary>
    private static BalancerPolicy Read(ConfigRoot root, string program, byte[]? packaged)
    {
        // As the program reads it: a file it refuses shows what it does instead, and why.
        var policy = ProgramSettings.LoadPolicy(root);
        var lb = LoadBalancerConfig.Load(root);
        var warnings = new List<string>();
        if (policy.Refused is { } refused)
            warnings.Add($"The balancer program refuses the policy in {policy.Path}: {refused}");
        // Read once: the program is some 17 MB.
        var bytes = File.Exists(program) && UnixFile.IsExecutable(program) ? File.ReadAllBytes(program) : null;
        var installed = bytes is not null && IsOurs(bytes) && (packaged is null || bytes.AsSpan().SequenceEqual(packaged));
        var pointed = File.Exists(ProgramSettings.PointerPathOf(program)) ? SafeConfigRootOf(program) : ConfigRoot.DefaultPath;
        if (installed && pointed != root.Path)
            warnings.Add($"The program at '{program}' reads its policy from {pointed}, not {root.Path} (Install-WbBalancer -ConfigRoot {root.Path} points it here).");
        if (installed && lb.Method != BalancingMethods.Custom)
            warnings.Add($"The program is installed but Workbench does not run it: balancer={lb.Method} in '{root.PathOf(ConfigFiles.LoadBalancer)}' (Install-WbBalancer sets custom).");
        if (lb.Method == BalancingMethods.Custom && !installed)
            warnings.Add($"balancer=custom, but '{program}' is not this module's balancer program: Workbench runs whatever is there, not this policy.");
        var answering = DecisionClient.IsAnswering(policy.ServiceSocket, TimeSpan.FromSeconds(1));
        if (answering == false)
            warnings.Add($"Something is at {policy.ServiceSocket} but no decision service answers there: the program decides alone and says so on " +
                         "every call. Start the service (systemctl start workbenchadmin-balancer) or remove what is there.");
        var counts = answering == true && DecisionClient.Metrics(policy.ServiceSocket, TimeSpan.FromSeconds(1)) is { } metrics ? DecisionMetrics.ParseCounts(metrics) : null;
        return policy with
        {
            ServiceDecisions = counts?.Decisions, ServiceFallbacks = counts?.Fallbacks, ServiceRefusals = counts?.Refusals,
            ProgramPath = program,
            ProgramInstalled = installed,
            BalancerIsCustom = lb.Method == BalancingMethods.Custom,
            ServiceAnswering = answering,
            Warnings = warnings,
        };
    }

    private static string SafeConfigRootOf(string program)
    {
        try { return ProgramSettings.ConfigRootOf(program).Path; }
        catch (WbException e) { return $"(unreadable: {e.Message})"; }
    }
}
