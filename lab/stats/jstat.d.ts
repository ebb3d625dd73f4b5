// jstat ships no types; this declares the functions the lab uses.
declare module 'jstat' {
  const jstat: {
    jStat: {
      studentt: { inv(probability: number, degreesOfFreedom: number): number };
      normal: { inv(probability: number, mean: number, standardDeviation: number): number };
    };
  };
  export default jstat;
}
