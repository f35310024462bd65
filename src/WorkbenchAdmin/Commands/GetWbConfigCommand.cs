using System.Management.Automation;
using WorkbenchAdmin.Completion;
using WorkbenchAdmin.Core.Commands.Config;

namespace WorkbenchAdmin.Commands;

[Cmdlet(VerbsCommon.Get, "WbConfig")]
[OutputType(typeof(ConfigEntry))]
public sealed class GetWbConfigCommand : WbCmdlet
{
    [Parameter(Position = 0)]
    [ArgumentCompleter(typeof(ConfigFileCompleter))]
    [ValidateNotNullOrEmpty]
    public string[]? File { get; set; }

    [Parameter(Position = 1)]
    [ValidateNotNullOrEmpty]
    public string[]? Key { get; set; }

    [Parameter]
    [ValidateNotNullOrEmpty]
    public string? Section { get; set; }

    [Parameter(ValueFromPipelineByPropertyName = true)]
    [ValidateNotNullOrEmpty]
    public string? ConfigRoot { get; set; }

    protected override void ProcessRecord() =>
        Run(host => GetConfigOperation.Run(new GetConfigRequest { ConfigRoot = ResolvePath(ConfigRoot), File = File, Key = Key, Section = Section }, host));
}
