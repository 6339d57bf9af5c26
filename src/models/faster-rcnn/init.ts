// Fresh parameters of a detector's own parts (FPN, RPN head, box head), drawn as the source
// framework draws them, per layer:
//   torchvision: FPN convs kaiming_uniform_(a=1) = U(±sqrt(3/fan_in)), bias 0; RPN head convs
//                N(0, 0.01), bias 0; box head and predictor nn.Linear's default: weight and bias
//                U(±1/sqrt(fan_in)).
//   mmdet:       FPN convs Xavier uniform = U(±sqrt(6/(fan_in+fan_out))), bias 0 (FPN init_cfg);
//                RPN convs N(0, 0.01) (RPNHead init_cfg); shared fcs Xavier uniform, bias 0;
//                fc_cls N(0, 0.01), fc_reg N(0, 0.001), bias 0 (BBoxHead init_cfg).
import type { InitRule } from '../layers/init.js';
import { fanIn, fanOut } from '../layers/init.js';
import type { ParamSpec } from '../../mapping/params.js';
import type { InitScheme } from './config.js';

/** The rule for one of the detector's own specs (`neck.*`, `rpn.*`, `roi_head.*`). */
export function detectorInitRule(scheme: InitScheme, specs: readonly ParamSpec[]): (spec: ParamSpec) => InitRule {
  const byName = new Map(specs.map((s) => [s.name, s]));
  // a bias draws from its layer's weight fan-in (nn.Linear's reset_parameters)
  const weightOf = (bias: ParamSpec) => byName.get(bias.name.replace(/\.bias$/, '.weight'))!;
  const linearDefault = (s: ParamSpec): InitRule => ({ uniform: 1 / Math.sqrt(fanIn(s.kind === 'vector' ? weightOf(s) : s)) });
  const xavier = (s: ParamSpec): InitRule => ({ uniform: Math.sqrt(6 / (fanIn(s) + fanOut(s))) });
  return (s) => {
    const isBias = s.kind === 'vector';
    if (s.name.startsWith('rpn.')) return isBias ? 'zeros' : { normal: 0.01 };
    if (s.name.startsWith('neck.')) {
      if (isBias) return 'zeros';
      return scheme === 'mmdet' ? xavier(s) : { uniform: Math.sqrt(3 / fanIn(s)) };
    }
    if (!s.name.startsWith('roi_head.')) throw new Error(`detector init: no rule for '${s.name}'`);
    if (scheme === 'torchvision') return linearDefault(s);
    if (isBias) return 'zeros';
    if (s.name === 'roi_head.cls_score.weight') return { normal: 0.01 };
    if (s.name === 'roi_head.bbox_pred.weight') return { normal: 0.001 };
    return xavier(s);
  };
}
